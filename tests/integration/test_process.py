# SPDX-License-Identifier: ISC
"""The process: graceful stop, inetd mode, privilege drop and chroot,
-V, usage errors, and the README's first command (make run)."""
import os
import queue
import re
import select
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time

from harness import (RUNNER, TMP, WAIT, Server, Skip, expect, free_port, is_root,
                     nomx_cmd, queued_seq, read_spool, session, stored_body)

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_sigterm_closes_idle_and_lets_data_finish():
    s = Server().start()
    idle = session(s.port)
    busy = session(s.port)
    expect(busy.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(busy.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(busy.cmd("DATA"), 354)
    busy.send(b"Subject: in flight\r\n\r\nfirst half\r\n")
    s.proc.send_signal(signal.SIGTERM)
    code, lines = idle.reply()
    assert code == 421 and "4.3.2" in lines[0], lines
    assert idle.closed()
    s.wait_log(r"stopping: finishing messages in progress")
    busy.send(b"second half\r\n.\r\n")
    seq = queued_seq(expect(busy.reply(), 250))
    expect(busy.reply(), 421, "4.3.2")
    assert busy.closed()
    assert s.proc.wait(10) == 0
    assert stored_body(s.cat(seq))[2] == b"Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n"
    # No new connections once stopping.
    try:
        socket.create_connection(("127.0.0.1", s.port), timeout=2).close()
        assert False, "still listening"
    except OSError:
        pass


def test_sigterm_deadline_for_stalled_data():
    s = Server().start()
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(b"Subject: never finished\r\n")
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    expect(c.reply(), 421, "4.3.2")
    assert s.proc.wait(10) == 0
    # Dev config: 3 s of grace; the upper bound only says it did end.
    assert 2.5 < time.time() - t0 < 3 + WAIT
    assert s.ls() == []


def test_inetd_mode():
    spool = tempfile.mkdtemp(prefix="nomx-inetd-", dir=TMP)
    p = subprocess.Popen(nomx_cmd("-i", "-s", spool), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def reply():
        lines = []
        while True:
            l = p.stdout.readline().decode()
            lines.append(l)
            if l[3:4] != "-":
                return int(l[:3]), lines

    def cmd(line):
        p.stdin.write(line)
        p.stdin.flush()

    assert reply()[0] == 220
    cmd(b"EHLO inetd.example\r\n")
    assert reply()[0] == 250
    cmd(b"MAIL FROM:<i@inetd.example>\r\nRCPT TO:<bob@mail.example.com>\r\nDATA\r\n")
    assert [reply()[0] for _ in range(3)] == [250, 250, 354]
    cmd(b"Subject: inetd\r\n\r\nvia stdin\r\n.\r\n")
    code, lines = reply()
    assert code == 250, lines
    cmd(b"QUIT\r\n")
    assert reply()[0] == 221
    assert p.wait(10) == 0
    recs = list(read_spool(spool))
    assert len(recs) == 1 and recs[0][2].endswith(b"Subject: inetd\r\n\r\nvia stdin\r\n")
    # stdin is a pipe, not a socket, and TCPREMOTEIP is unset.
    assert ("C", "unknown") in recs[0][1], recs[0][1]


def test_privilege_drop_and_chroot():
    if not is_root() or RUNNER:
        raise Skip("needs root on the host CPU")
    s = Server().start()
    with open("/proc/%d/status" % s.proc.pid) as f:
        uid = [l for l in f if l.startswith("Uid:")][0].split()[1:]
    assert uid == ["65534"] * 4, uid          # dev config: nobody
    assert os.readlink("/proc/%d/root" % s.proc.pid) == os.path.realpath(s.spool)
    assert "running as nobody, chrooted into the spool" in s.log()
    s.stop()


def test_spool_folder_anyone_may_write_or_another_users_is_refused():
    s = Server()
    os.makedirs(s.spool)
    os.chmod(s.spool, 0o777)
    r = subprocess.run(nomx_cmd("-f", "-p", str(free_port()), "-s", s.spool),
                       capture_output=True, text=True, timeout=20)
    assert r.returncode == 111 and "is writable by everyone (mode 0777)" in r.stderr, r.stderr
    os.chmod(s.spool, 0o700)
    if is_root():
        # Root never gives away a folder that belongs to someone else.
        os.chown(s.spool, 4321, 4321)
        r = subprocess.run(nomx_cmd("-f", "-p", str(free_port()), "-s", s.spool),
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 111 and "belongs to another user" in r.stderr, r.stderr
        assert os.stat(s.spool).st_uid == 4321
    else:
        r = subprocess.run(nomx_cmd("-f", "-p", str(free_port()), "-s", "/usr"),
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 111 and "belongs to uid 0, not to the user" in r.stderr, r.stderr


def test_read_only_root_with_the_spool_on_a_writable_mount():
    """As on a router: / is read-only (squashfs), only the spool's
    mount is writable.  nomx starts as root, drops, and takes mail."""
    if not is_root() or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        raise Skip("needs root and mount namespaces")
    if RUNNER[:1] == ["valgrind"]:
        raise Skip("valgrind itself needs a writable /tmp")
    s = Server()
    ro_root = ["unshare", "-m", "--propagation", "private", "sh", "-c",
               'mount --bind "$0" "$0" && mount -o remount,bind,ro / && exec "$@"', s.dir]
    s.wrap = ro_root
    s.start()
    root = subprocess.run(["nsenter", "-t", str(s.proc.pid), "-m", "findmnt", "-no", "OPTIONS",
                           "/"], capture_output=True, text=True, check=True).stdout
    assert root.startswith("ro,"), root               # the daemon's / is read-only
    with smtplib.SMTP("127.0.0.1", s.port) as c:
        c.sendmail("ups@ups.example", ["alice@mail.example.com"],
                   b"Subject: read-only root\r\n\r\nhello\r\n")
    assert len(list(read_spool(s.spool))) == 1
    assert s.stop() == 0, s.log()
    assert "error" not in s.log().lower(), s.log()


def test_daemon_logs_to_syslog_through_dev_log():
    """Without -f, nomx daemonizes and logs to /dev/log itself: one
    datagram per line, "<PRI>nomx[PID]: ...", connected before the
    chroot.  The test's own socket is bind-mounted on /dev/log in a
    mount namespace (a tmpfs /dev with null, zero, urandom put back).
    While that "syslogd" stops reading, mail still flows, and the lines
    it could not take are counted and reported when it reads again."""
    if not is_root() or subprocess.run(["unshare", "-m", "true"]).returncode != 0:
        raise Skip("needs root and mount namespaces")
    s = Server()
    sock_path = os.path.join(s.dir, "log")
    log = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    log.bind(sock_path)
    lines, reading = queue.Queue(), threading.Event()
    reading.set()

    def syslogd():                            # reads at once, unless told to stop
        try:
            while reading.wait():
                lines.put(log.recv(2048).decode())
        except OSError:
            pass
    threading.Thread(target=syslogd, daemon=True).start()
    dev = os.path.join(s.dir, "olddev")
    os.mkdir(dev)
    setup = ('mount --bind /dev "$0/olddev" && mount -t tmpfs none /dev && '
             'for n in null zero urandom; do touch /dev/$n && mount --bind "$0/olddev/$n" /dev/$n; '
             'done && touch /dev/log && mount --bind "$0/log" /dev/log && exec "$@"')
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", setup, s.dir]
                       + nomx_cmd("-l", "127.0.0.1", "-p", str(s.port), "-P", "0", "-s", s.spool),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stderr == "", r.stderr      # the parent returns at once

    def until(text):
        while True:
            line = lines.get(timeout=20)
            if text in line:
                return line

    try:
        ready = until("nomx ready")
        m = re.match(r"<22>nomx\[(\d+)\]: nomx ready host=mail\.example\.com", ready)
        assert m, ready                      # LOG_MAIL | LOG_INFO, no timestamp
        pid = int(m.group(1))
        assert os.readlink("/proc/%d/root" % pid) == os.path.realpath(s.spool)
        # Detached: nothing of the starting shell's terminal or pipes kept.
        assert [os.readlink("/proc/%d/fd/%d" % (pid, fd)) for fd in (0, 1, 2)] == \
            ["/dev/null"] * 3
        with smtplib.SMTP("127.0.0.1", s.port) as c:
            c.sendmail("ups@ups.example", ["alice@mail.example.com"],
                       b"Subject: syslog\r\n\r\nlogged\r\n")
        assert until("accepted seq=1").startswith(
            "<22>nomx[%d]: session=1 client=127.0.0.1" % pid)
        # Syslogd busy: more sessions (two lines each) than its queue
        # holds.  A blocking send would stall the daemon at once.
        reading.clear()
        with open("/proc/sys/net/unix/max_dgram_qlen") as f:
            sessions = int(f.read()) // 2 + 20
        for _ in range(sessions):
            with smtplib.SMTP("127.0.0.1", s.port, timeout=5) as c:
                c.noop()
        reading.set()
        with smtplib.SMTP("127.0.0.1", s.port) as c:
            c.noop()
        dropped = until("log lines dropped: syslog busy")
        assert re.match(r"<20>nomx\[%d\]: \d+ log lines dropped" % pid, dropped), dropped
        os.kill(pid, signal.SIGTERM)
        until("stopped")
    finally:
        subprocess.run(["pkill", "-f", s.spool])   # whatever happened above
        log.shutdown(socket.SHUT_RDWR)
        log.close()


def test_version_prints_config():
    out = subprocess.run(nomx_cmd("-V"), capture_output=True, text=True, check=True).stdout
    for want in ("mail.example.com", "[127.0.0.1]", "mailbox alice: alice.smith a.smith",
                 "mailbox bob", "mailbox postmaster", "max recipients     100",
                 "max message        10485760"):
        assert want in out, (want, out)


def config_h_comment(knob):
    """The comment above `#ifndef knob` in config.h, on one line."""
    with open(os.path.join(TOP, "config.h")) as f:
        text = f.read()
    i = text.index("#ifndef %s\n" % knob)
    lines = text[text.rindex("/*", 0, i):i].splitlines()
    return " ".join(l.strip().lstrip("/*").rstrip("*/").strip() for l in lines)


def test_ram_costs_in_config_h_are_what_nomx_V_prints():
    """The per-item RAM costs config.h states are within 10% of what
    `nomx -V` prints from sizeof, for this board's word size; and the
    pools it lists fit in the binary's bss."""
    out = subprocess.run(nomx_cmd("-V"), capture_output=True, text=True, check=True).stdout
    bits32 = os.environ.get("BOARD", "host") in ("armv7", "armel", "mipsel")

    def printed(pattern):
        m = re.search(pattern, out)
        assert m, (pattern, out)
        return int(m.group(1))

    each = {"NOMX_MAX_CONN": printed(r"connection slot +(\d+) bytes each"),
            "NOMX_MAX_RCPT": printed(r"recipients at (\d+) bytes each"),
            "NOMX_TLS_SESSIONS": printed(r"TLS engine +(\d+) bytes each")}
    for knob, real in each.items():
        comment = config_h_comment(knob)
        m = re.search(r"([\d,]+) bytes[^(]*\(([\d,]+) on the 32-bit boards", comment)
        assert m, (knob, comment)
        said = int(m.group(2 if bits32 else 1).replace(",", ""))
        assert abs(said - real) <= real // 10, (knob, "config.h says", said, "nomx -V", real)
    bss = printed(r"static RAM +(\d+) bytes")
    pools = [printed(r"connection slot .*, (\d+) in all"), printed(r"TLS engine .*, (\d+) in all"),
             printed(r"session cache +(\d+) bytes"), printed(r"staging arena +(\d+) bytes"),
             printed(r"the rest +(\d+) bytes")]
    assert sum(pools) == bss and max(pools) <= bss, (pools, bss)


def test_usage_and_start_errors():
    r = subprocess.run(nomx_cmd("-x"), capture_output=True, text=True)
    assert r.returncode == 100 and "usage" in r.stderr
    r = subprocess.run(nomx_cmd("-f", "-l", "not-an-ip", "-p", "2525"), capture_output=True,
                       text=True)
    assert r.returncode == 100 and "bad listen address" in r.stderr
    s = Server().start()
    # A second daemon on the same spool is refused by the lock.
    r = subprocess.run(nomx_cmd("-f", "-l", "127.0.0.1", "-p", str(free_port()), "-s", s.spool),
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 111 and "in use by another nomx" in r.stderr, r.stderr
    # The port taken.
    r = subprocess.run(nomx_cmd("-f", "-l", "127.0.0.1", "-p", str(s.port), "-s", s.spool + "2"),
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 111 and "cannot listen" in r.stderr, r.stderr
    s.stop()


def test_options_are_read_as_getopt_reads_them():
    """main.c's own option parser (getopt's 4 KB are not on the router):
    arguments attached or apart, flags in a cluster, "--", and every
    malformed command line a usage error (100), never a run."""
    s = Server().start()
    s.stop()

    def status(argv):
        """Its exit and its output, less the filesystem's free space,
        which whatever else writes to the disk changes meanwhile."""
        r = subprocess.run(nomx_cmd(*argv), capture_output=True, text=True, timeout=20)
        return r.returncode, re.sub(r"(?m)^free .*\n", "", r.stdout), r.stderr
    want = status(["-s", s.spool, "spool", "status"])
    assert want[0] == 0 and want[1], want
    for argv in (["-s" + s.spool, "spool", "status"],
                 ["-fs", s.spool, "spool", "status"],
                 ["-fis" + s.spool, "spool", "status"],
                 ["-p", "2525", "-P0", "-s", s.spool, "--", "spool", "status"]):
        got = status(argv)
        assert got[:2] == want[:2], (argv, got, want)
    for argv in (["-s"], ["-f", "-p"], ["-fz"], ["-:"], ["-", "spool"], ["--", "-s", s.spool],
                 ["-p", "0"], ["-P", "x"], ["-l", "127.0.0.1", "-l", "::1", "-l", "::1"]):
        r = subprocess.run(nomx_cmd(*argv), capture_output=True, text=True, timeout=20)
        assert r.returncode == 100 and "usage" in r.stderr, (argv, r.returncode, r.stderr)


def test_make_run_readme_command():
    """The README's first command, and then the line it tells a newcomer
    to try (swaks with STARTTLS), exactly as printed."""
    if RUNNER:
        raise Skip("make run is for the host")
    port, tls_port = free_port(), free_port()
    spool = os.path.join(tempfile.mkdtemp(prefix="nomx-run-", dir=TMP), "spool")
    p = subprocess.Popen(["make", "-s", "run", "PORT=%d" % port, "TLSPORT=%d" % tls_port,
                          "SPOOL=%s" % spool], cwd=TOP, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    printed = []
    try:
        for line in iter(p.stdout.readline, b""):
            printed.append(line.decode())
            if "nomx ready" in printed[-1]:
                break
        tries = [l.split("try", 1)[1].strip() for l in printed if l.startswith("nomx: try")]
        assert len(tries) == 1 and tries[0].startswith("swaks "), printed
        r = subprocess.run(tries[0], shell=True, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "TLS started" in r.stdout, r.stdout
        assert len(list(read_spool(spool))) == 1
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        out = "".join(printed) + p.communicate(timeout=20)[0].decode()
    assert "nomx ready" in out, out


def test_inetd_sessions_take_the_spool_lock_in_turn():
    """A second inetd session while one is open waits for the lock (and
    is then served) instead of being refused."""
    spool = tempfile.mkdtemp(prefix="nomx-inetd2-", dir=TMP)
    first = subprocess.Popen(nomx_cmd("-i", "-s", spool), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert first.stdout.readline().startswith(b"220 ")
    second = subprocess.Popen(nomx_cmd("-i", "-s", spool), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Unlocked, it would greet within its 100 ms pause: give it ten times
    # that (more under qemu or valgrind), and it must not have said a word.
    quiet = 3.0 if RUNNER else 1.0
    assert select.select([second.stdout], [], [], quiet)[0] == [], "greeted while the first was open"
    assert second.poll() is None, second.stderr.read()     # waiting, not refused
    first.stdin.write(b"QUIT\r\n")
    first.stdin.flush()
    assert first.wait(10) == 0
    assert second.stdout.readline().startswith(b"220 ")    # its turn
    second.stdin.write(b"QUIT\r\n")
    second.stdin.flush()
    assert second.wait(10) == 0

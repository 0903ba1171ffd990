# SPDX-License-Identifier: ISC
"""Getting the mail off the device: `nomx spool export/ack/status/fsck`
and `nomx fetch` over a real OpenSSH server, a pseudo-terminal console
with noise, and a plain command pipe; interruption and bad input."""
import glob
import os
import random
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import tty

from harness import (DELIVERED, NOMX, RUNNER, TMP, WAIT, Server, Skip, deliver, expect, is_root,
                     nomx_cmd, read_spool, session)

# How the device's nomx is run (through qemu-user on a foreign board).
ABS = " ".join(RUNNER + [os.path.abspath(NOMX)])
BODY = b"Subject: report %d\r\n\r\nbattery at %d%%\r\n.. stuffed dot\r\n"
# `fetch --timeout` for a link that goes quiet: the device's nomx must
# start within it, which under an emulator or valgrind on a busy
# machine took more than 1 s (a CI run failed so).
QUIET_S = 10 if RUNNER else 1


def send(s, n, start=0, to=("alice@mail.example.com",)):
    sent = {}
    for i in range(start, start + n):
        seq = deliver(s.port, BODY % (i, i), to=to)
        sent[seq] = i
    return sent


def spool(s, *args):
    return subprocess.run(nomx_cmd("-s", s.spool, "spool", *args), capture_output=True,
                          text=True)


def fetch(*args, timeout=120):
    return subprocess.run(nomx_cmd("fetch", *args), capture_output=True, text=True,
                          timeout=timeout)


def remote(s):
    return "%s -s %s" % (ABS, s.spool)


def maildir_files(md, box="alice"):
    return sorted(glob.glob(os.path.join(md, box, "new", "*")))


def snapshot(s):
    """What the test sent to this server ({seq: (sender, message)}), kept
    by deliver(): never read back through nomx."""
    return {seq: rec for (port, seq), rec in DELIVERED.items() if port == s.port}


RECEIVED = re.compile(rb"Received: from [^\n]*\n(?:\t[^\n]*\n)*")


def check_file(got, snap, seq, rcpts):
    """A delivered file: Return-Path and Delivered-To from the envelope,
    our Received: (with this seq's id), then exactly the message that
    was sent; LF line ends."""
    sender, msg = snap[seq]
    head = b"Return-Path: <%s>\n" % sender.encode() + b"".join(
        b"Delivered-To: %s\n" % r.encode() for r in rcpts)
    assert got.startswith(head), (seq, got[:300])
    m = RECEIVED.match(got, len(head))
    assert m and re.search(rb" id %d[;\n]" % seq, m.group(0)), (seq, got[:400])
    assert got[m.end():] == msg.replace(b"\r\n", b"\n"), (seq, got[m.end():m.end() + 200])


def check_maildir(snap, md, seqs, box="alice", rcpts=("alice@mail.example.com",), special={}):
    files = maildir_files(md, box)
    by_seq = {int(os.path.basename(f).split("_")[2].split(".")[0]): f for f in files}
    assert sorted(by_seq) == sorted(seqs), (sorted(by_seq), sorted(seqs))
    assert len(files) == len(seqs), files      # exactly once
    for seq in seqs:
        with open(by_seq[seq], "rb") as f:
            check_file(f.read(), snap, seq, special.get(seq, rcpts))


def mbox_messages(text):
    """mboxrd: each message without its From_ line and the blank line
    that ends it, >From unquoted."""
    assert text.startswith(b"From "), text[:100]
    out = []
    for part in re.split(rb"^From \S+ [^\n]*\n", text, flags=re.M)[1:]:
        assert part.endswith(b"\n\n"), part[-100:]
        out.append(re.sub(rb"^>(>*From )", rb"\1", part[:-1], flags=re.M))
    return out


def check_outputs(outputs, snap, seqs, rcpts=("alice@mail.example.com",)):
    """Delivered messages (mbox entries, MDA inputs): exactly the seqs
    sent, each once and whole."""
    by_seq = {}
    for got in outputs:
        seq = int(re.search(rb" id (\d+)[;\n]", got).group(1))
        assert seq not in by_seq, ("twice", seq)
        by_seq[seq] = got
    assert sorted(by_seq) == sorted(seqs), (sorted(by_seq), sorted(seqs))
    for seq, got in by_seq.items():
        check_file(got, snap, seq, rcpts)


def status(s):
    out = spool(s, "status").stdout
    return dict(l.split(None, 1) for l in out.splitlines())


def test_export_ack_status_fsck_on_the_device():
    with Server() as s:
        send(s, 3)
        out = spool(s, "export").stdout
        lines = out.splitlines()
        assert lines[0].startswith("@@NMX BEGIN v1 dev=") and " from=1 last=3 n=3 " in lines[0]
        assert lines[-1].startswith("@@NMX END last=3 n=3 *")
        assert all(l.startswith("@@NMX ") and len(l) < 120 for l in lines), lines
        assert all(0x20 <= ord(c) < 0x7f for c in out.replace("\n", "")), "not 7-bit text"
        assert spool(s, "export").stdout == out, "export is not deterministic"
        token = lines[0].split("sess=")[1].split()[0]
        r = spool(s, "ack", "2", token)
        assert r.returncode == 0 and r.stdout.startswith("@@NMX ACKED 2 *"), r
        # Written by root here, the ACK file is the spool's all the same.
        owner = os.stat(s.spool)
        ack = os.stat(os.path.join(s.spool, "ACK"))
        assert (ack.st_uid, ack.st_gid) == (owner.st_uid, owner.st_gid), (ack, owner)
        assert spool(s, "ack", "2", token).stdout.startswith("@@NMX ACKED 2 ")  # idempotent
        assert spool(s, "ack", "1", token).stdout.startswith("@@NMX ACKED 2 ")  # cumulative
        st = status(s)
        assert st["acked"] == "2" and st["last"] == "3", st
        assert "1 not acknowledged" in st["messages"], st
        again = spool(s, "export").stdout.splitlines()
        assert " from=3 last=3 n=1 " in again[0], again[0]
        r = spool(s, "fsck")
        assert r.returncode == 0 and "clean" in r.stdout, r.stdout


def test_bad_acks_refused_nothing_deleted():
    with Server() as s:
        send(s, 2)
        tok1 = spool(s, "export").stdout.split("sess=")[1].split()[0]
        # Forged: another MAC, or a claim of more than was shown.
        forged = tok1[:-1] + ("0" if tok1[-1] != "0" else "1")
        for args in (("2", forged), ("2", "1-2-0000000000000000"), ("2", "1-9-" + tok1[4:]),
                     ("x", tok1), ("3", tok1)):
            r = spool(s, "ack", *args)
            assert r.returncode != 0, (args, r)
            assert "NAK" in r.stdout or "usage" in r.stderr, r
        assert status(s)["acked"] == "0"
        # Stale: a token from before new mail cannot ack the new mail.
        assert spool(s, "ack", "2", tok1).returncode == 0
        send(s, 2, start=10)
        r = spool(s, "ack", "4", tok1)
        assert r.returncode == 1 and "beyond-export" in r.stdout, r
        # A later session that skipped unacked mail cannot ack past it.
        tok3 = spool(s, "export", "--from", "4").stdout.split("sess=")[1].split()[0]
        r = spool(s, "ack", "4", tok3)
        assert r.returncode == 1 and "gap" in r.stdout, r
        assert status(s)["acked"] == "2"
        assert len(s.ls()) == 4


def test_fetch_cmd_maildir_and_segments_removed():
    with Server(env={}) as s:
        sent = send(s, 30)
        big = deliver(s.port, b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 1500)
        md = os.path.join(s.dir, "Maildir")
        snap = snapshot(s)
        r = fetch("--cmd", "sh", "--remote", remote(s), "--maildir", md)
        assert r.returncode == 0, r.stderr
        check_maildir(snap, md, list(sent) + [big])
        st = status(s)
        assert st["acked"] == str(big), st
        # Run again: nothing new, nothing twice.
        r = fetch("--cmd", "sh", "--remote", remote(s), "--maildir", md, "--quiet")
        assert r.returncode == 0 and r.stderr == "", r.stderr
        check_maildir(snap, md, list(sent) + [big])


def test_fetch_across_a_number_the_spool_lacks():
    """A failed sync refuses its message (451) and its sequence number is
    never used again: the fetch delivers the rest across the hole, and
    acks all of it (the reassembly lets a MSG skip numbers only where
    BEGIN's count leaves room)."""
    with Server(env={"NOMX_FAULT": "fdatasync:2"}) as s:
        sent = send(s, 1)
        c = session(s.port)
        expect(c.cmd("MAIL FROM:<ups@example.com>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(b"Subject: lost sync\r\n\r\nx\r\n.\r\n")
        expect(c.reply(), 451)
        c.close()
        sent.update(send(s, 3, start=1))
        assert max(sent) - min(sent) == len(sent), sorted(sent)     # one number missing
        md = os.path.join(s.dir, "Maildir")
        r = fetch("--cmd", "sh", "--remote", remote(s), "--maildir", md)
        assert r.returncode == 0, r.stderr
        check_maildir(snapshot(s), md, list(sent))
        assert status(s)["acked"] == str(max(sent)), status(s)


def test_fetch_deletes_only_acknowledged_sealed_segments():
    # Segments are sealed at 1 MiB: 12 messages of 150 KiB fill two.
    with Server() as s:
        seqs = [deliver(s.port, b"Subject: s\r\n\r\n" + (b"y" * 998 + b"\r\n") * 150)
                for _ in range(12)]
        before = sorted(os.listdir(os.path.join(s.spool, "seg")))
        snap = snapshot(s)
        md = os.path.join(s.dir, "md")
        r = fetch("--cmd", "sh", "--remote", remote(s), "--maildir", md, "--no-ack")
        assert r.returncode == 0, r.stderr
        assert sorted(os.listdir(os.path.join(s.spool, "seg"))) == before   # nothing acked
        r = fetch("--cmd", "sh", "--remote", remote(s), "--maildir", md)
        assert r.returncode == 0, r.stderr
        check_maildir(snap, md, seqs)
        after = os.listdir(os.path.join(s.spool, "seg"))
        assert len(before) >= 2 and len(after) == 1, (before, after)   # only the active one
        # New mail after a full ack goes on with the next sequence number.
        assert deliver(s.port, BODY % (1, 1)) == seqs[-1] + 1


def sshd_setup(d):
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd) or not shutil.which("ssh"):
        raise Skip("openssh-server not installed")
    if not is_root():
        raise Skip("sshd test needs root (CI runs as root)")
    os.makedirs("/run/sshd", exist_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(d, "host_key")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(d, "user_key")], check=True)
    auth = os.path.join(d, "authorized_keys")
    shutil.copy(os.path.join(d, "user_key.pub"), auth)
    os.chmod(auth, 0o600)
    from harness import free_port
    port = free_port()
    conf = os.path.join(d, "sshd_config")
    with open(conf, "w") as f:
        f.write("Port %d\nListenAddress 127.0.0.1\nHostKey %s/host_key\n"
                "AuthorizedKeysFile %s\nPidFile %s/sshd.pid\nStrictModes no\nUsePAM no\n"
                "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "PermitRootLogin prohibit-password\nPrintMotd no\nLogLevel ERROR\n"
                % (port, d, auth, d))
    p = subprocess.Popen([sshd, "-D", "-e", "-f", conf], stderr=open(os.path.join(d, "sshd.log"),
                                                                          "w"))
    deadline = time.time() + 10
    import socket
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    opts = ["--port", str(port), "--ssh-opt", "IdentityFile=%s/user_key" % d,
            "--ssh-opt", "StrictHostKeyChecking=no", "--ssh-opt", "UserKnownHostsFile=/dev/null",
            "--ssh-opt", "BatchMode=yes", "--ssh-opt", "LogLevel=ERROR"]
    return p, opts


def test_fetch_over_real_ssh_to_maildir_mbox_and_mda():
    with Server() as s:
        d = tempfile.mkdtemp(prefix="nomx-ssh-", dir=TMP)
        sshd, opts = sshd_setup(d)
        try:
            sent = send(s, 5)
            two = deliver(s.port, BODY % (99, 99), to=("bob@mail.example.com",
                                                        "alice.smith@mail.example.com"))
            md = os.path.join(d, "Maildir")
            snap = snapshot(s)
            t0 = time.time()
            r = fetch("--ssh", "root@127.0.0.1", *opts, "--remote", remote(s), "--maildir", md)
            assert r.returncode == 0, r.stderr
            check_maildir(snap, md, list(sent) + [two],
                          special={two: ("alice.smith@mail.example.com",)})
            check_maildir(snap, md, [two], box="bob", rcpts=("bob@mail.example.com",))
            assert "acknowledged up to %d" % two in r.stderr, r.stderr
            assert status(s)["acked"] == str(two)
            # mbox and an MDA, for the next messages.
            more = send(s, 2, start=50)
            mbox = os.path.join(d, "mbox")
            r = fetch("--ssh", "root@127.0.0.1", *opts, "--remote", remote(s), "--mbox", mbox,
                      "--no-ack")
            assert r.returncode == 0, r.stderr
            check_outputs(mbox_messages(open(mbox, "rb").read()), snapshot(s), more)
            mda_out = os.path.join(d, "mda")
            os.makedirs(mda_out)
            r = fetch("--ssh", "root@127.0.0.1", *opts, "--remote", remote(s), "--mda",
                      "cat > %s/{mailbox}-$$-{rcpt}" % mda_out, "--state",
                      os.path.join(d, "mda.state"))
            assert r.returncode == 0, r.stderr
            outputs = []
            for name in os.listdir(mda_out):
                with open(os.path.join(mda_out, name), "rb") as f:
                    outputs.append(f.read())
            check_outputs(outputs, snapshot(s), more)
            assert status(s)["acked"] == str(max(more))
            # --mda has no folder for its state: it must be named (usage, 100).
            r = fetch("--ssh", "root@127.0.0.1", *opts, "--mda", "cat")
            assert r.returncode == 100 and "--mda needs --state" in r.stderr, r
            # No nomx on the device: said once, no retries, nothing created.
            send(s, 1, start=70)
            nowhere = os.path.join(d, "never-made")
            r = fetch("--ssh", "root@127.0.0.1", *opts, "--remote", "no-nomx-here -s /x",
                      "--maildir", nowhere)
            assert r.returncode == 2, r
            assert r.stderr.count("could not run `no-nomx-here -s /x` (ssh exit 127)") == 1, r.stderr
            assert r.stderr.count("not found") == 1, r.stderr     # the device shell's one line
            assert not os.path.exists(nowhere)
            print("# ssh on loopback: %d messages in %.2f s" % (len(sent) + 1, time.time() - t0))
        finally:
            sshd.terminate()
            sshd.wait()


class Console:
    """A serial console on a pseudo-terminal: an interactive shell (echo
    and CR/LF translation on, as on a real console), and between it and
    the "serial line" a relay that injects kernel-style messages between
    lines and, now and then, inside them."""

    def __init__(self, noise=0.0, inside=0.0, seed=1, bps=0):
        self.rnd = random.Random(seed)
        self.noise, self.inside, self.bps = noise, inside, bps
        self.wire = 0           # bytes the device sent down the line
        self.line_m, line_s = os.openpty()          # what fetch opens
        self.tty_path = os.ttyname(line_s)
        tty.setraw(line_s)      # a serial port does not echo what arrives on it
        self.keep = line_s
        self.dev_m, dev_s = os.openpty()            # the device's console
        self.sh = subprocess.Popen(["sh", "-i"], stdin=dev_s, stdout=dev_s, stderr=dev_s,
                                   start_new_session=True, env=dict(os.environ, PS1="root@dev:~# "))
        os.close(dev_s)
        self.stop = False
        self.t = threading.Thread(target=self.relay, daemon=True)
        self.t.start()

    def garble(self, data):
        out = b""
        for chunk in data.split(b"\n"):
            if self.rnd.random() < self.inside and len(chunk) > 20:
                k = self.rnd.randrange(len(chunk))
                chunk = chunk[:k] + b"[ 1234.5678] eth0: link up" + chunk[k:]
            out += chunk + b"\n"
            if self.rnd.random() < self.noise:
                out += b"[ %d.%06d] usb 1-1: new high-speed USB device number 3\r\n" % (
                    self.rnd.randrange(99999), self.rnd.randrange(999999))
        return out[:-1]

    def relay(self):
        while not self.stop:
            r, _, _ = select.select([self.line_m, self.dev_m], [], [], 0.1)
            if self.line_m in r:
                try:
                    os.write(self.dev_m, os.read(self.line_m, 4096))
                except OSError:
                    return
            if self.dev_m in r:
                try:
                    data = os.read(self.dev_m, 4096)
                except OSError:
                    return
                data = self.garble(data)
                self.wire += len(data)
                if self.bps:
                    time.sleep(len(data) * 10 / self.bps)   # 8N1: 10 bits a byte
                os.write(self.line_m, data)

    def close(self):
        self.stop = True
        self.t.join()
        os.killpg(self.sh.pid, signal.SIGKILL)
        self.sh.wait()
        for fd in (self.line_m, self.dev_m, self.keep):
            os.close(fd)


def test_fetch_over_serial_console_with_noise():
    with Server() as s:
        sent = send(s, 12)
        snap = snapshot(s)
        con = Console(noise=0.3, inside=0.04, seed=7)
        try:
            md = os.path.join(s.dir, "md")
            r = fetch("--serial", con.tty_path, "--baud", "115200", "--remote", remote(s),
                      "--maildir", md, "--timeout", "5", "--retries", "10")
            assert r.returncode == 0, r.stderr
            assert "in transit" in r.stderr or "no answer" in r.stderr, \
                "the noise never hit a line: the test proves nothing"
            check_maildir(snap, md, list(sent))
            assert status(s)["acked"] == str(max(sent))
        finally:
            con.close()


def test_serial_rate_at_115200():
    """Paced like a 115200 baud 8N1 line.  What nomx decides is how many
    bytes cross the line per byte of mail: base64 (4/3) plus each line's
    frame and checksum, and the shell's echo of the commands.  That
    overhead is asserted; the rate it gives is printed."""
    with Server() as s:
        sent = {deliver(s.port, b"Subject: log\r\n\r\n" + (b"z" * 78 + b"\r\n") * 120): i
                for i in range(4)}
        size = sum(len(raw) for _, _, raw in read_spool(s.spool))
        snap = snapshot(s)
        con = Console(bps=115200)
        try:
            md = os.path.join(s.dir, "md")
            t0 = time.time()
            r = fetch("--serial", con.tty_path, "--remote", remote(s), "--maildir", md)
            took = time.time() - t0
            assert r.returncode == 0, r.stderr
            check_maildir(snap, md, list(sent))
            # A data line carries 57 bytes as 76 base64 characters in about
            # 100 on a tty ("@@NMX D seq n ", " *crc32c", CR LF): x1.75,
            # plus the commands' echo, prompts and a few frame lines.
            overhead = con.wire / size
            assert size * 4 / 3 < con.wire < size * 100 / 57 * 1.05 + 4096, (con.wire, size)
            print("# serial at 115200 baud: %d bytes of mail, %d on the line (x%.2f), %.2f s = "
                  "%.1f KB/s" % (size, con.wire, overhead, took, size / 1024 / took))
        finally:
            con.close()


def cutter(d, name, script):
    """A stand-in for `nomx` on the device that passes through a shell
    filter: cuts or damages the stream, as a broken link would."""
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + script)
    os.chmod(path, 0o755)
    return path


def test_interrupted_fetch_resumes_exactly_once():
    with Server() as s:
        sent = send(s, 40)
        snap = snapshot(s)
        md = os.path.join(s.dir, "md")
        rnd = random.Random(3)
        # Kill fetch (and its shell) in the middle of delivering, many
        # times: as soon as it has written a message, or a few more.
        for _ in range(6):
            before = len(maildir_files(md))
            p = subprocess.Popen(nomx_cmd("fetch", "--cmd", "sh", "--remote", remote(s),
                                          "--maildir", md, "--quiet"), start_new_session=True)
            deadline = time.time() + 60
            while (p.poll() is None and len(maildir_files(md)) <= before
                   and time.time() < deadline):
                time.sleep(0.001)
            time.sleep(rnd.uniform(0.0, 0.002))
            os.killpg(p.pid, signal.SIGKILL)
            assert p.wait() == -signal.SIGKILL, "fetch ended before the kill"
        # The stream cut mid-message twice, at different places (each cut
        # costs the fetch a --timeout of silence), then whole.
        d = s.dir
        cut = cutter(d, "cut.sh", 'case "$4" in export) n=$(cat %s/cuts 2>/dev/null || echo 0); '
                     'echo $((n + 1)) > %s/cuts; if [ "$n" -lt 2 ]; then '
                     '%s "$@" | head -c $((3000 + n * 4000)); else %s "$@"; fi ;; '
                     '*) %s "$@" ;; esac\n' % (d, d, ABS, ABS, ABS))
        r = fetch("--cmd", "sh", "--remote", "%s -s %s" % (cut, s.spool), "--maildir", md,
                  "--retries", "1", "--timeout", str(QUIET_S))
        assert r.returncode == 0, r.stderr
        assert r.stderr.count("cut short in transit") == 2, r.stderr
        # New mail, fetched, but the answer to its ack is lost.
        later = send(s, 3, start=100)
        snap.update(snapshot(s))
        mute = cutter(d, "mute.sh", 'case "$4" in ack) %s "$@" > /dev/null ;; '
                      '*) %s "$@" ;; esac\n' % (ABS, ABS))
        r = fetch("--cmd", "sh", "--remote", "%s -s %s" % (mute, s.spool), "--maildir", md,
                  "--timeout", str(QUIET_S), "--retries", "0")
        assert r.returncode == 2 and "no answer to the ack" in r.stderr, r.stderr
        sent.update(later)
        # The real thing finishes the job: every message exactly once.
        r = fetch("--cmd", "sh", "--remote", remote(s), "--maildir", md)
        assert r.returncode == 0, r.stderr
        check_maildir(snap, md, list(sent))
        assert status(s)["acked"] == str(max(sent))


def test_damaged_stream_fetched_again_or_refused():
    with Server() as s:
        sent = send(s, 6)
        snap = snapshot(s)
        md = os.path.join(s.dir, "md")
        # Flip one bit in a data line of message 3, every time: never acked.
        flip = cutter(s.dir, "flip.sh", 'case "$4" in export) %s "$@" | sed "/^@@NMX D 3 1 /'
                      's/A/B/" ;; *) %s "$@" ;; esac\n' % (ABS, ABS))
        r = fetch("--cmd", "sh", "--remote", "%s -s %s" % (flip, s.spool), "--maildir", md,
                  "--retries", "2")
        assert r.returncode == 3, (r.returncode, r.stderr)
        assert "damaged in transit" in r.stderr and "stayed damaged" in r.stderr, r.stderr
        assert len(maildir_files(md)) == 2            # 1 and 2, not 3 or later
        assert status(s)["acked"] == "2"              # acked only what was delivered
        # A link that damages only the first attempt: fetched again, all there.
        once = cutter(s.dir, "once.sh", 'if [ "$4" = export ] && [ ! -e %s/flipped ]; then '
                      'touch %s/flipped; %s "$@" | sed "/^@@NMX D 5 1 /s/A/B/"; '
                      'else %s "$@"; fi\n' % (s.dir, s.dir, ABS, ABS))
        r = fetch("--cmd", "sh", "--remote", "%s -s %s" % (once, s.spool), "--maildir", md)
        assert r.returncode == 0, r.stderr
        check_maildir(snap, md, list(sent))


def test_full_spool_accepts_again_after_ack_without_restart():
    legacy = os.environ.get("NOMX_LEGACY", "")
    if not legacy:
        raise Skip("no legacy build")
    s = Server(binary=legacy, tls=True)      # NOMX_QUOTA_MSGS 8 there
    with s:
        c = session(s.port)
        expect(c.cmd("AUTH PLAIN AGRldmljZQBzZWNyZXQ="), 235)
        n = 0
        while True:
            code, lines = c.cmd("MAIL FROM:<ups@example.com>")
            if code != 250:
                break
            expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
            expect(c.cmd("DATA"), 354)
            c.send(BODY % (n, n) + b".\r\n")
            expect(c.reply(), 250)
            n += 1
        assert code == 452 and n == 8, (code, lines, n)
        md = os.path.join(s.dir, "md")
        dev = " ".join(RUNNER + [os.path.abspath(legacy)])
        r = subprocess.run(nomx_cmd("fetch", "--cmd", "sh", "--remote", "%s -s %s" % (dev,
                           s.spool), "--maildir", md, binary=legacy), capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        # The daemon re-reads the spool at most once a second: until it
        # has, MAIL still gets 452.
        deadline = time.time() + WAIT
        while c.cmd("MAIL FROM:<ups@example.com>")[0] == 452 and time.time() < deadline:
            time.sleep(0.1)
        assert time.time() < deadline, "still full after the ack"
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(BODY % (n, n) + b".\r\n")
        expect(c.reply(), 250)

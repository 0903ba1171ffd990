#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make bench`: nomx side by side with Postfix (real queue, virtual(8)
delivery to a Maildir: the durable path) and Postfix's smtp-sink (no
storage: the protocol-only ceiling), in one run, driven by Postfix's
smtp-source.  Postfix and its tools come unpacked from Debian's package
into build/tools and run with their own config, queue and ports under
build/bench; nothing system-wide is touched (as root, one system user
and group, nomxbench/nomxbenchd, are added for Postfix's mail_owner).

Prints a table, writes build/bench/results.json and results.md, and
puts results.md into tests/bench/RESULTS.md between the bench markers."""
import json
import os
import platform
import re
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(TOP, "build", "tools")
PFLIB = os.path.join(TOOLS, "usr", "lib", "postfix")
ENV = dict(os.environ, LD_LIBRARY_PATH=PFLIB)
NOMX = os.path.join(TOP, "build", "host-bench", "nomx")
RELEASE = os.path.join(TOP, "build", "host", "nomx")
OUT = os.path.join(TOP, "build", "bench")
REPS = int(os.environ.get("BENCH_REPS", "3"))
# (message bytes, concurrency, messages): bounded cells.
CELLS = [(1024, 1, 300), (1024, 20, 1000), (65536, 1, 100), (65536, 20, 300)]
ROOT = os.geteuid() == 0

sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from ports import free_port, wait_port  # noqa: E402


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def tree(pid):
    """pid and all its descendants."""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open("/proc/%s/stat" % p) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(p))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def rss_kib(pids, field="Pss:"):
    """Memory of a set of processes: PSS (shared pages split between the
    processes that map them, so Postfix's many processes are not counted
    once per copy of libc), or VmRSS for a single process."""
    total = 0
    for p in pids:
        path, key = ("/proc/%d/smaps_rollup" % p, field) if field == "Pss:" else \
            ("/proc/%d/status" % p, field)
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


class Sampler(threading.Thread):
    """Peak of the summed RSS of a process tree while a run goes on."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(tree(self.pid)))
            time.sleep(0.02)


class Disk:
    """A loop-mounted ext4 file system (as root), so that the bytes each
    server makes the storage write can be read off the device's counters;
    otherwise a folder on the build disk."""

    def __init__(self):
        self.dir = os.path.join(OUT, "disk")
        self.dev = None
        os.makedirs(self.dir, exist_ok=True)
        if not ROOT or not shutil.which("mkfs.ext4"):
            return
        img = os.path.join(OUT, "disk.img")
        try:
            subprocess.run(["umount", self.dir], capture_output=True)
            with open(img, "wb") as f:
                f.truncate(2 << 30)
            run(["mkfs.ext4", "-q", "-F", img])
            run(["mount", "-o", "loop", img, self.dir])
            src = run(["findmnt", "-no", "SOURCE", self.dir]).stdout.strip()
            self.dev = os.path.basename(src)
        except (subprocess.CalledProcessError, OSError) as e:
            print("# no loop device (%s): writes from /proc/PID/io only" % e)

    def sectors(self):
        if not self.dev:
            return None
        os.sync()
        with open("/sys/block/%s/stat" % self.dev) as f:
            return int(f.read().split()[6])

    def close(self):
        if self.dev:
            subprocess.run(["umount", self.dir], capture_output=True)


def io_write_bytes(pids):
    total = 0
    for p in pids:
        try:
            with open("/proc/%d/io" % p) as f:
                for line in f:
                    if line.startswith("write_bytes:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class OneProcess:
    """A server that is one foreground process, stopped with SIGTERM."""

    def spawn(self, cmd, env=None):
        self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.pid = self.proc.pid

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Nomx(OneProcess):
    name = "nomx"

    def __init__(self, disk):
        self.dir = os.path.join(disk.dir, "nomx")
        self.port, self.tls_port = free_port(), free_port()
        self.proc = None

    def start(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        run([NOMX, "-s", self.dir, "keygen"])
        self.spawn([NOMX, "-f", "-l", "127.0.0.1", "-p", str(self.port), "-P", str(self.tls_port),
                    "-s", self.dir])


class Sink(OneProcess):
    name = "smtp-sink"

    def __init__(self, disk):
        self.port = free_port()

    def start(self):
        cmd = [os.path.join(TOOLS, "usr/sbin/smtp-sink")]
        if ROOT:
            cmd += ["-u", "nomxbench"]
        self.spawn(cmd + ["127.0.0.1:%d" % self.port, "256"], env=ENV)


MASTER_CF = """127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{tls_port} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
showq     unix  n - n - - showq
tlsmgr    unix  - - n 1000? 1 tlsmgr
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    name = "Postfix"

    def __init__(self, disk):
        self.base = os.path.join(disk.dir, "postfix")
        self.conf = os.path.join(OUT, "postfix-conf")
        self.port, self.tls_port = free_port(), free_port()

    def setup_users(self):
        if subprocess.run(["id", "nomxbench"], capture_output=True).returncode:
            run(["useradd", "-r", "-M", "-d", "/nonexistent", "-s", "/usr/sbin/nologin",
                 "nomxbench"])
        if subprocess.run(["getent", "group", "nomxbenchd"], capture_output=True).returncode:
            run(["groupadd", "-r", "nomxbenchd"])

    def start(self):
        self.setup_users()
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(self.conf, ignore_errors=True)
        for d in ("queue", "data", "mail"):
            os.makedirs(os.path.join(self.base, d))
        os.makedirs(self.conf)
        uid, gid = int(run(["id", "-u", "nomxbench"]).stdout), int(run(["id", "-g",
                                                                        "nomxbench"]).stdout)
        for d in ("data", "mail"):
            os.chown(os.path.join(self.base, d), uid, gid)
        # The same kind of key as nomx's: EC P-256, self-signed.
        run([NOMX, "-s", self.conf, "keygen"])
        main = {
            "compatibility_level": "3.6",
            "queue_directory": self.base + "/queue",
            "data_directory": self.base + "/data",
            "command_directory": TOOLS + "/usr/sbin",
            "daemon_directory": TOOLS + "/usr/lib/postfix/sbin",
            "shlib_directory": PFLIB,
            "meta_directory": TOOLS + "/etc/postfix",
            "mail_owner": "nomxbench",
            "setgid_group": "nomxbenchd",
            "myhostname": "mail.example.com",
            "mydestination": "",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "virtual_mailbox_domains": "mail.example.com",
            "virtual_mailbox_base": self.base + "/mail",
            "virtual_mailbox_maps": "static:alice/",
            "virtual_uid_maps": "static:%d" % uid,
            "virtual_gid_maps": "static:%d" % gid,
            "virtual_minimum_uid": "1",
            "smtpd_recipient_restrictions": "permit_mynetworks, reject",
            "alias_maps": "",
            "alias_database": "",
            "maillog_file": self.base + "/data/maillog",
            "maillog_file_prefixes": self.base,
            "import_environment": "MAIL_CONFIG MAIL_DEBUG TZ LANG=C LD_LIBRARY_PATH=" + PFLIB,
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "smtpd_tls_cert_file": self.conf + "/cert.pem",
            "smtpd_tls_key_file": self.conf + "/key.pem",
            "smtpd_tls_security_level": "may",
            "smtpd_tls_session_cache_database": "",
            "default_process_limit": "100",
        }
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("".join("%s = %s\n" % kv for kv in main.items()))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port, tls_port=self.tls_port))
        pf = os.path.join(TOOLS, "usr/sbin/postfix")
        run([pf, "-c", self.conf, "check"], env=ENV)
        run([pf, "-c", self.conf, "start"], env=ENV)
        wait_port(self.port)
        with open(os.path.join(self.base, "queue/pid/master.pid")) as f:
            self.pid = int(f.read().strip())

    def delivered(self):
        d = os.path.join(self.base, "mail/alice/new")
        return len(os.listdir(d)) if os.path.isdir(d) else 0

    def drain(self, want, timeout=120):
        """Wait until the queue has delivered everything (so one cell's
        deliveries do not run into the next)."""
        deadline = time.time() + timeout
        while self.delivered() < want and time.time() < deadline:
            time.sleep(0.05)

    def stop(self):
        subprocess.run([os.path.join(TOOLS, "usr/sbin/postfix"), "-c", self.conf, "stop"],
                       env=ENV, capture_output=True)
        time.sleep(1)


def smtp_source(port, size, conc, count):
    cmd = [os.path.join(TOOLS, "usr/sbin/smtp-source"), "-s", str(conc), "-m", str(count),
           "-l", str(size), "-f", "ups@example.com", "-t", "alice@mail.example.com",
           "-M", "client.example", "127.0.0.1:%d" % port]
    t0 = time.time()
    run(cmd, env=ENV, timeout=600)
    return time.time() - t0


def cell_run(server, disk, size, conc, count, delivered_before):
    pids = tree(server.pid)
    sampler = Sampler(server.pid)
    sampler.start()
    sec0, io0 = disk.sectors(), io_write_bytes(pids)
    took = smtp_source(server.port, size, conc, count)
    if isinstance(server, Postfix):
        server.drain(delivered_before + count)   # deliveries are part of its durable work
    sampler.stop = True
    sampler.join()
    sec1, io1 = disk.sectors(), io_write_bytes(tree(server.pid))
    written = (sec1 - sec0) * 512 if sec0 is not None else max(0, io1 - io0)
    return {"msgs_per_s": count / took, "peak_rss_kib": sampler.peak,
            "written_per_msg": written / count}


def strace_syncs(server, size=1024, conc=20, count=300):
    """fsync/fdatasync calls per message, from strace -c on a short run."""
    if not shutil.which("strace"):
        return None
    pids = tree(server.pid)
    out = os.path.join(OUT, "strace-%s.txt" % server.name)
    args = ["strace", "-c", "-f", "-o", out]
    for p in pids:
        args += ["-p", str(p)]
    st = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    before = server.delivered() if isinstance(server, Postfix) else 0
    smtp_source(server.port, size, conc, count)
    if isinstance(server, Postfix):
        server.drain(before + count)
    st.terminate()
    st.wait()
    calls = 0
    for line in open(out):
        f = line.split()
        if f and f[-1] in ("fsync", "fdatasync") and len(f) >= 4:
            calls += int(f[3]) if f[3].isdigit() else int(f[2])
    return calls / count


def tree_cpu_s(pid):
    """CPU seconds of pid and its descendants, with what the children it
    reaped used (utime, stime, cutime, cstime)."""
    total = 0
    for p in tree(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                total += sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:15])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def handshakes(server, port, reuse=False, seconds=5):
    """Implicit-TLS handshakes by `openssl s_time` (-new: full; -reuse:
    resuming one session): (per second, server CPU ms per handshake)."""
    c0 = tree_cpu_s(server.pid)
    r = subprocess.run(["openssl", "s_time", "-connect", "127.0.0.1:%d" % port,
                        "-reuse" if reuse else "-new", "-time", str(seconds)],
                       capture_output=True, text=True)
    cpu = tree_cpu_s(server.pid) - c0
    m = re.findall(r"(\d+) connections in (\d+) real seconds", r.stdout)
    if not m:
        return None, None
    n, t = int(m[-1][0]), int(m[-1][1])
    return n / t, 1000 * cpu / n if n else None


def smtp_reply(f):
    """One SMTP reply (all its lines) from a file object."""
    while True:
        line = f.readline()
        if len(line) < 4 or line[3:4] != b"-":
            return line


def starttls_handshakes(server, count=200, reuse=False):
    """STARTTLS on the plain port, count times, with Python's ssl (each
    server's best TLS version): (per second, server CPU ms per
    handshake, how many were resumed).  reuse: every connection offers
    the session of the first."""
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    session, resumed = None, 0

    def once(offer):
        s = socket.create_connection(("127.0.0.1", server.port))
        # Or the client's Nagle holds its EHLO behind its Finished for the
        # server's delayed ACK, 40 ms a resumed connection.
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        smtp_reply(f)
        s.sendall(b"EHLO bench.example\r\n")
        smtp_reply(f)
        s.sendall(b"STARTTLS\r\n")
        smtp_reply(f)
        t = ctx.wrap_socket(s, session=offer)
        tf = t.makefile("rb")
        t.sendall(b"EHLO bench.example\r\n")
        smtp_reply(tf)      # a TLS 1.3 server's ticket has arrived by now
        t.sendall(b"QUIT\r\n")
        smtp_reply(tf)
        got = (t.session, t.session_reused)
        t.close()
        return got

    if reuse:
        session = once(None)[0]
    c0, t0 = tree_cpu_s(server.pid), time.time()
    for _ in range(count):
        resumed += once(session)[1]
    took, cpu = time.time() - t0, tree_cpu_s(server.pid) - c0
    return count / took, 1000 * cpu / count, resumed


def message_cpu(server, tls, size=65536, count=50):
    """Server CPU ms per message of size bytes, count of them through one
    session, over SMTPS or plain SMTP (Postfix's deliveries waited for
    and counted)."""
    import smtplib
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    body = b"Subject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * (size // 78)
    before = server.delivered() if isinstance(server, Postfix) else 0
    c0 = tree_cpu_s(server.pid)
    if tls:
        c = smtplib.SMTP_SSL("127.0.0.1", server.tls_port, context=ctx, timeout=60)
    else:
        c = smtplib.SMTP("127.0.0.1", server.port, timeout=60)
    with c:
        for _ in range(count):
            c.sendmail("ups@example.com", ["alice@mail.example.com"], body)
    if isinstance(server, Postfix):
        server.drain(before + count)
    return 1000 * (tree_cpu_s(server.pid) - c0) / count


def idle_rss(server, n=16, tls=0):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", server.port),
                                     source_address=("127.0.0.%d" % (2 + i // 4), 0))
        s.recv(200)
        s.sendall(b"EHLO bench.example\r\n")
        time.sleep(0.01)
        s.recv(2000)
        socks.append(s)
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    for i in range(tls):
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.tls_port),
                                                     source_address=("127.0.0.9", 0)))
        s.recv(200)
        socks.append(s)
    time.sleep(0.3)
    r = rss_kib([server.pid], "VmRSS:")
    for s in socks:
        s.close()
    return r


def callgrind_per_message():
    """Instructions per message (repeatable): two runs under callgrind
    with 100 and 300 messages; the difference over 200."""
    if not shutil.which("valgrind"):
        return None
    counts = []
    for n in (100, 300):
        d = tempfile.mkdtemp(prefix="nomx-cg-", dir=OUT)
        port = free_port()
        cg = os.path.join(d, "callgrind.out")
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, NOMX, "-f", "-l",
               "127.0.0.1", "-p", str(port), "-P", "0", "-s", os.path.join(d, "spool")]
        if ROOT:
            os.chown(d, 65534, 65534)
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, 60)
        smtp_source(port, 1024, 1, n)
        p.terminate()
        p.wait()
        m = re.search(r"^(?:summary|totals): (\d+)", open(cg).read(), re.M)
        counts.append(int(m.group(1)))
    return (counts[1] - counts[0]) / 200


def sizes():
    subprocess.run(["strip", "-o", RELEASE + ".stripped", RELEASE], check=True)
    text, data, bss = map(int, run(["size", RELEASE]).stdout.splitlines()[1].split()[:3])
    pf = sum(os.path.getsize(os.path.join(TOOLS, "usr/lib/postfix/sbin", n))
             for n in ("smtpd", "master", "cleanup", "qmgr", "local"))
    pflib = sum(os.path.getsize(os.path.join(PFLIB, n)) for n in os.listdir(PFLIB)
                if n.startswith("libpostfix-"))
    return {"nomx_stripped": os.path.getsize(RELEASE + ".stripped"), "nomx_text": text,
            "nomx_data": data, "nomx_bss": bss, "postfix_daemons": pf, "postfix_libs": pflib}


def fmt_cell(size, conc):
    return "%s c%d" % ("1 KiB" if size == 1024 else "64 KiB", conc)


def main():
    os.makedirs(OUT, exist_ok=True)
    disk = Disk()
    servers = [Nomx(disk), Sink(disk)]
    if ROOT:
        servers.insert(1, Postfix(disk))
    else:
        print("# not root: Postfix (needs root for its master) left out")
    res = {s.name: {fmt_cell(sz, c): [] for sz, c, _ in CELLS} for s in servers}
    extra = {}
    t_start = time.time()
    try:
        for s in servers:
            s.start()
        delivered = 0
        for rep in range(REPS):
            for size, conc, count in CELLS:
                for s in servers:
                    before = s.delivered() if isinstance(s, Postfix) else 0
                    r = cell_run(s, disk, size, conc, count, before)
                    res[s.name][fmt_cell(size, conc)].append(r)
                    print("rep %d %-9s %-10s %8.0f msg/s  peak RSS %6d KiB  %8.0f B written/msg"
                          % (rep + 1, s.name, fmt_cell(size, conc), r["msgs_per_s"],
                             r["peak_rss_kib"], r["written_per_msg"]), flush=True)
        for s in servers:
            if not isinstance(s, Sink):
                extra.setdefault(s.name, {})["syncs_per_msg_c20"] = strace_syncs(s)
                extra[s.name]["syncs_per_msg_c1"] = strace_syncs(s, conc=1, count=100)
        # Idle memory on a fresh daemon: the load before leaves staging
        # pages resident.
        nomx = servers[0]
        nomx.stop()
        nomx.start()
        time.sleep(0.3)
        extra["nomx"]["start_rss_kib"] = rss_kib([nomx.pid], "VmRSS:")
        extra["nomx"]["idle16_rss_kib"] = idle_rss(nomx)
        extra["nomx"]["idle16_plus_tls4_rss_kib"] = idle_rss(nomx, n=12, tls=4)
        for s in servers:
            if hasattr(s, "tls_port"):
                e = extra[s.name]
                e["tls_handshakes_per_s"], e["tls_cpu_ms_full"] = handshakes(s, s.tls_port)
                e["tls_resumed_per_s"], e["tls_cpu_ms_resumed"] = handshakes(s, s.tls_port,
                                                                             reuse=True)
                (e["starttls_per_s"], e["starttls_cpu_ms_full"],
                 _) = starttls_handshakes(s)
                (e["starttls_resumed_per_s"], e["starttls_cpu_ms_resumed"],
                 e["starttls_resumed_of_200"]) = starttls_handshakes(s, reuse=True)
                e["cpu_ms_64k_smtps"] = message_cpu(s, tls=True)
                e["cpu_ms_64k_plain"] = message_cpu(s, tls=False)
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception:  # noqa: BLE001
                pass
        disk.close()
    extra["nomx"]["instructions_per_msg"] = callgrind_per_message()
    extra["sizes"] = sizes()
    report(res, extra, servers, time.time() - t_start)


def med(rs, key):
    v = [r[key] for r in rs]
    return statistics.median(v), (max(v) - min(v)) / 2


def report(res, extra, servers, took):
    names = [s.name for s in servers]
    date = time.strftime("%Y-%m-%d")
    cores = os.cpu_count()
    lines = ["Run on %s, %d cores (%s), `make bench` (%d repetitions, interleaved; median ± "
             "half the spread), %.0f s." % (date, cores, platform.machine(), REPS, took), "",
             "| cell | " + " | ".join("%s msg/s" % n for n in names) +
             " | nomx/Postfix | nomx/smtp-sink |", "|---" * (len(names) + 3) + "|"]
    for size, conc, count in CELLS:
        c = fmt_cell(size, conc)
        meds = {n: med(res[n][c], "msgs_per_s") for n in names}
        row = ["%s (%d msgs)" % (c, count)] + ["%.0f ± %.0f" % meds[n] for n in names]
        pf = meds.get("Postfix", (None,))[0]
        row.append("%.2f×" % (meds["nomx"][0] / pf) if pf else "-")
        row.append("%.2f×" % (meds["nomx"][0] / meds["smtp-sink"][0]))
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "| per server | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for key, label in (("peak_rss_kib", "peak memory, PSS summed over its processes (KiB)"),
                       ("written_per_msg", "storage written per 1 KiB msg at c20 (bytes)")):
        row = [label]
        for n in names:
            if key == "written_per_msg":
                row.append("%.0f" % med(res[n]["1 KiB c20"], key)[0])
            else:
                row.append("%.0f" % max(r[key] for c in res[n].values() for r in c))
        lines.append("| " + " | ".join(row) + " |")
    for key, label in (("syncs_per_msg_c1", "fsync+fdatasync per msg, c1"),
                       ("syncs_per_msg_c20", "fsync+fdatasync per msg, c20"),
                       ("tls_handshakes_per_s", "TLS full handshakes/s (EC P-256, s_time)"),
                       ("tls_cpu_ms_full", "server CPU per full handshake (ms)"),
                       ("tls_resumed_per_s", "TLS resumed handshakes/s (s_time -reuse)"),
                       ("tls_cpu_ms_resumed", "server CPU per resumed handshake (ms)"),
                       ("starttls_per_s", "STARTTLS full handshakes/s (Python ssl, 200)"),
                       ("starttls_cpu_ms_full", "server CPU per STARTTLS connection, full (ms)"),
                       ("starttls_resumed_per_s", "STARTTLS resuming handshakes/s"),
                       ("starttls_resumed_of_200", "of them resumed (of 200)"),
                       ("starttls_cpu_ms_resumed", "server CPU per STARTTLS connection, "
                        "resuming (ms)"),
                       ("cpu_ms_64k_smtps", "server CPU per 64 KiB message over SMTPS, one "
                        "session (ms)"),
                       ("cpu_ms_64k_plain", "server CPU per 64 KiB message over plain SMTP, "
                        "one session (ms)")):
        row = [label]
        for n in names:
            v = extra.get(n, {}).get(key)
            row.append("-" if v is None else str(v) if isinstance(v, int) else
                       "%.2f" % v if v < 10 else "%.0f" % v)
        lines.append("| " + " | ".join(row) + " |")
    e, z = extra["nomx"], extra["sizes"]
    p = extra.get("Postfix", {})
    if p.get("tls_cpu_ms_full") and p.get("starttls_cpu_ms_full"):
        lines += ["", "Server CPU per full handshake, nomx/Postfix: SMTPS %.2f×, STARTTLS "
                  "connection %.2f×.  nomx's resumed handshake costs %.2f of a full one "
                  "(SMTPS), its resuming STARTTLS connection %.2f of a full one." % (
                      e["tls_cpu_ms_full"] / p["tls_cpu_ms_full"],
                      e["starttls_cpu_ms_full"] / p["starttls_cpu_ms_full"],
                      e["tls_cpu_ms_resumed"] / e["tls_cpu_ms_full"],
                      e["starttls_cpu_ms_resumed"] / e["starttls_cpu_ms_full"])]
    ipm = e.get("instructions_per_msg")
    lines += ["", "nomx VmRSS on a fresh daemon: **%d KiB**; with 16 idle connections after "
              "EHLO: **%d KiB**; with 12 plain and 4 TLS sessions: **%d KiB**; at the peak of "
              "the 64 KiB c20 cell: **%d KiB** (PSS)." % (
                  e["start_rss_kib"], e["idle16_rss_kib"], e["idle16_plus_tls4_rss_kib"],
                  max(r["peak_rss_kib"] for r in res["nomx"]["64 KiB c20"])),
              "Instructions per 1 KiB message (callgrind, c1, difference of a 300- and a "
              "100-message run): **%s**." % ("%.0f" % ipm if ipm else "-"),
              "Size: nomx %d bytes stripped (text %d, data %d, bss %d); Postfix's smtpd, master, "
              "cleanup, qmgr and local %d bytes plus %d bytes of libpostfix." % (
                  z["nomx_stripped"], z["nomx_text"], z["nomx_data"], z["nomx_bss"],
                  z["postfix_daemons"], z["postfix_libs"])]
    md = "\n".join(lines) + "\n"
    print("\n" + md)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"date": date, "cores": cores, "cells": res, "extra": extra}, f, indent=1)
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write(md)
    results = os.path.join(TOP, "tests", "bench", "RESULTS.md")
    text = open(results).read()
    a, b = "<!-- bench:start -->\n", "<!-- bench:end -->"
    if a in text and b in text:
        text = text[:text.index(a) + len(a)] + md + text[text.index(b):]
        with open(results, "w") as f:
            f.write(text)
        print("tests/bench/RESULTS.md updated")


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: ISC
"""Helpers for the integration tests: start the real static nomx on
loopback with its own spool, talk to it over raw sockets, read the
spool back with `nomx spool`.  No mocks: every test talks to the binary.
"""
import os
import re
import shlex
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time

NOMX = os.environ["NOMX"]
RUNNER = shlex.split(os.environ.get("RUNNER", ""))
TOOLS = os.environ.get("TOOLS", "")
TMP = os.environ.get("TEST_TMP", tempfile.gettempdir())
HOST = "mail.example.com"
# How long to wait for a condition before calling it a failure.
WAIT = 60 if RUNNER else 20
# Under valgrind every nomx process costs about a second to start: the
# tests that start hundreds of them try an even sample there (every
# other kind tries all, and valgrind looks for memory errors, which the
# same code paths show in a sample).
VALGRIND = RUNNER[:1] == ["valgrind"]


def sample(items, k):
    """All of items, or under valgrind k of them evenly spread, the first
    and the last included."""
    items = list(items)
    if not VALGRIND or len(items) <= k:
        return items
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]

from ports import free_port  # noqa: F401  (the tests take it from here)


def nomx_cmd(*args, binary=None):
    return RUNNER + [binary or NOMX] + list(args)


# Every daemon started, so run.py can tell a test that one crashed.
SERVERS = []
CRASH_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL, signal.SIGFPE,
                 signal.SIGSYS)
SANITIZER_REPORTS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:")


class Server:
    """One nomx daemon with its own folder (spool + log)."""

    def __init__(self, spool=None, env=None, tls=False, binary=None, wrap=(), listen=("127.0.0.1",)):
        self.dir = tempfile.mkdtemp(prefix="nomx-it-", dir=TMP)
        os.chmod(self.dir, 0o755)
        self.spool = spool or os.path.join(self.dir, "spool")
        self.port = free_port()
        self.tls_port = free_port()
        self.binary = binary
        self.wrap = list(wrap)      # a command that execs nomx (unshare ...)
        self.listen = listen        # -l for each: IPv4 and/or IPv6
        self.env = dict(os.environ, **(env or {}))
        if tls:
            self.keygen()
        self.proc = None
        self.logpath = os.path.join(self.dir, "log")

    def start(self):
        self.logf = open(self.logpath, "ab")
        mark = os.path.getsize(self.logpath)
        self.proc = subprocess.Popen(
            self.wrap + nomx_cmd("-f", *[a for addr in self.listen for a in ("-l", addr)],
                                 "-p", str(self.port), "-P", str(self.tls_port), "-s", self.spool,
                                 binary=self.binary),
            stdout=self.logf, stderr=self.logf, env=self.env)
        SERVERS.append(self)
        deadline = time.time() + 20
        while time.time() < deadline:
            with open(self.logpath, "rb") as f:
                f.seek(mark)
                if b"nomx ready" in f.read():
                    return self
            if self.proc.poll() is not None:
                raise AssertionError("nomx exited at start: " + self.log())
            time.sleep(0.02)
        raise AssertionError("nomx did not start: " + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("nomx did not stop on signal %d" % sig)
        return self.proc.returncode if self.proc else None

    def problem(self):
        """Why this daemon's end was not one a test asked for: killed by
        a crash signal, or a sanitizer report in its log; else None."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is not None and rc < 0 and -rc in CRASH_SIGNALS:
            return "nomx (%s) died of signal %d:\n%s" % (self.dir, -rc, self.log()[-3000:])
        with open(self.logpath, "rb") as f:
            log = f.read()
        for r in SANITIZER_REPORTS:
            if r in log:
                at = log.index(r)
                return "nomx (%s) sanitizer report:\n%s" % (
                    self.dir, log[max(0, at - 200):at + 3000].decode(errors="replace"))
        return None

    def keygen(self, *args):
        """`nomx keygen` into this server's spool (the dev config keeps
        key.pem and cert.pem there)."""
        return subprocess.run(nomx_cmd("-s", self.spool, "keygen", *args, binary=self.binary),
                              capture_output=True, check=True).stdout.decode()

    @property
    def cert(self):
        return os.path.join(self.spool, "cert.pem")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def log_mark(self):
        """Where the log ends now: wait_log looks only after it."""
        return len(self.log())

    def wait_log(self, pattern, since=0, timeout=None):
        """Wait until the log, after `since`, matches the regex; the match.
        A generous limit (qemu and valgrind are slow), never a fixed sleep."""
        deadline = time.time() + (timeout or WAIT)
        while True:
            m = re.search(pattern, self.log()[since:])
            if m:
                return m
            if time.time() > deadline:
                raise AssertionError("no %r in the log after %d s:\n%s" % (
                    pattern, timeout or WAIT, self.log()[since:][-3000:]))
            time.sleep(0.02)

    def ls(self):
        """[(seq, sender, [rcpts], size)] from `nomx spool ls`."""
        out = subprocess.run(nomx_cmd("-s", self.spool, "spool", "ls"), check=True,
                             capture_output=True).stdout.decode()
        rows = []
        for line in out.splitlines():
            parts = line.split(" ")
            addrs = [a[1:-1] for a in parts[3:]]
            rows.append((int(parts[0]), addrs[0], addrs[1:], int(parts[2])))
        return rows

    def cat(self, seq):
        return subprocess.run(nomx_cmd("-s", self.spool, "spool", "cat", str(seq)), check=True,
                              capture_output=True).stdout

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()


class Client:
    """A raw SMTP client: exact bytes out, whole replies in."""

    def __init__(self, port, src="127.0.0.1", greet=True, timeout=30):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                          source_address=(src, 0))
        self.buf = b""
        if greet:
            code, text = self.reply()
            assert code == 220, (code, text)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode(errors="replace")

    def reply(self):
        """(code, [lines]) of one possibly multi-line reply."""
        lines = []
        while True:
            l = self.line()
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                return int(l[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5):
        """True if the server closed the connection (reads to EOF)."""
        self.s.settimeout(timeout)
        try:
            while True:
                chunk = self.s.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


class Recorder:
    """A loopback proxy in front of a server port that keeps every byte
    each client sent, so a test compares the spool with what a client
    program really put on the wire (its own Date:, Message-Id: ...)."""

    def __init__(self, port):
        self.port = free_port()
        self.target = port
        self.streams = []
        self.lock = threading.Lock()
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.ls.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            rec = bytearray()
            with self.lock:
                self.streams.append(rec)
            threading.Thread(target=self._pipe, args=(c, u, rec), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, None), daemon=True).start()

    @staticmethod
    def _pipe(a, b, rec):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if rec is not None:
                    rec += d
                b.sendall(d)
        except OSError:
            pass
        finally:
            try:
                b.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def messages(self):
        """Every DATA content the clients sent, read as a server reads the
        stream (commands, then data lines up to "."), dot-stuffing undone."""
        out = []
        for rec in self.streams:
            body = None
            for line in bytes(rec).split(b"\r\n"):
                if body is None:
                    body = [] if line.upper() == b"DATA" else None
                elif line == b".":
                    out.append(b"".join(x + b"\r\n" for x in body))
                    body = None
                else:
                    body.append(line[1:] if line.startswith(b".") else line)
        return out

    def close(self):
        self.ls.close()


def queued_seq(text):
    m = re.search(r"queued as (\d+)", " ".join(text) if isinstance(text, list) else text)
    assert m, text
    return int(m.group(1))


def expect(got, code, enhanced=None):
    c, lines = got
    assert c == code, "expected %d, got %r" % (code, lines)
    if enhanced:
        assert lines[-1][4:].startswith(enhanced), "expected %s in %r" % (enhanced, lines)
    return lines


def session(port, helo="ehlo client.example", **kw):
    c = Client(port, **kw)
    expect(c.cmd(helo), 250)
    return c


# What deliver() sent, kept by the tests: {(port, seq): (sender, message
# as it must be stored: dot-stuffing undone)}.
DELIVERED = {}


def unstuff(wire):
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in wire.split(b"\r\n"))


def deliver(port, body, to=("alice@mail.example.com",), sender="dev@ups.example"):
    """One message over a raw session; body in wire form (CRLF, stuffed).
    Returns the 250's seq; DELIVERED keeps what was sent."""
    c = session(port)
    expect(c.cmd("MAIL FROM:<%s>" % sender), 250)
    for t in to:
        expect(c.cmd("RCPT TO:<%s>" % t), 250)
    expect(c.cmd("DATA"), 354)
    wire = body + (b"" if body.endswith(b"\r\n") else b"\r\n")
    c.send(wire + b".\r\n")
    seq = queued_seq(expect(c.reply(), 250))
    DELIVERED[(port, seq)] = (sender, unstuff(wire))
    c.cmd("QUIT")
    c.close()
    return seq


def smtplib_send(s, mode, msg, rcpts=("alice@mail.example.com",), sender="cam@example.com",
                 host="127.0.0.1"):
    """One message to Server s with Python's smtplib over "plain" SMTP,
    "starttls" or "smtps", the certificate checked; raises unless it was
    answered 250.  Returns when the 250 came (time.monotonic())."""
    ctx = ssl.create_default_context(cafile=s.cert)
    if mode == "smtps":
        c = smtplib.SMTP_SSL(host, s.tls_port, context=ctx, timeout=WAIT)
    else:
        c = smtplib.SMTP(host, s.port, timeout=WAIT)
        if mode == "starttls":
            c.starttls(context=ctx)
    try:
        c.sendmail(sender, list(rcpts), msg)
        return time.monotonic()
    finally:
        c.quit()


def stored_body(raw):
    """Split `spool cat` output: (return_path, received, rest)."""
    rp, rest = raw.split(b"\r\n", 1)
    assert rp.startswith(b"Return-Path: <"), raw[:80]
    m = re.match(rb"(Received: [^\r]*\r\n(?:\t[^\r]*\r\n)*)", rest)
    assert m, rest[:200]
    return rp[len(b"Return-Path: <"):-1].decode(), m.group(1).decode(), rest[m.end():]


def s_client(args, stdin, timeout=20):
    """openssl s_client with stdin written once the server may hear it:
    on the SMTPS port only after the 220 greeting (nomx refuses early
    talkers), after STARTTLS at once.  -quiet waits for the close."""
    p = subprocess.Popen(["openssl", "s_client", "-quiet"] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = b""
    if "-starttls" not in args:
        first = p.stdout.readline()    # the greeting, or b"" if the handshake failed
    out, err = p.communicate(stdin, timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, first + out, err)


RECEIVED_RE = re.compile(rb"Received: [^\r]*\r\n(?:[\t ][^\r]*\r\n)*")


def split_received(stored):
    """A record's message as read_spool gives it: (the Received: header
    at its top, with its continuation lines; the rest)."""
    m = RECEIVED_RE.match(stored)
    assert m, stored[:200]
    return stored[:m.end()], stored[m.end():]


def stored_messages(spool):
    """{seq: (envelope, Received:, message)} read from the segment files
    by the harness's own reader, not through nomx."""
    out = {}
    for seq, env, stored in read_spool(spool):
        assert seq not in out, ("twice", seq)
        out[seq] = (env,) + split_received(stored)
    return out


SHARED = {}


def shared_server():
    """One daemon shared by the tests that need nothing special."""
    if "s" not in SHARED:
        SHARED["s"] = Server().start()
    return SHARED["s"]


def is_root():
    return os.geteuid() == 0


class Skip(Exception):
    pass


def read_spool(spool):
    """Parse the segment files directly (nomx-spool(5)): yields
    (seq, envelope fields, body) for every record whose framing checks.
    An independent reader of the documented format; the CRCs are left to
    `nomx spool`, which the tests also run."""
    import glob
    import struct
    for path in sorted(glob.glob(os.path.join(spool, "seg", "*.nmx"))):
        with open(path, "rb") as f:
            data = f.read()
        assert data[:4] == b"NMXS", path
        off, want = 32, struct.unpack_from("<Q", data, 8)[0]
        while True:
            # Each commit's records start a fresh 4 KiB block; the gap
            # before them is zeros, and what follows it the next seq.
            block = -(-off // 4096) * 4096
            gap = data[off:off + 4] != b"NMX1" and block < len(data) and not any(data[off:block])
            at = block if gap else off
            if at + 56 > len(data) or data[at:at + 4] != b"NMX1":
                break
            seq, t_ms, env_len, body_len = struct.unpack_from("<QQII", data, at + 8)
            if gap and seq != want:
                break
            off, want = at, seq + 1
            total = 48 + env_len + body_len + 8
            trl = data[off + total - 8:off + total]
            if len(trl) < 8 or trl[:4] != b"1XMN" or struct.unpack("<I", trl[4:])[0] != total:
                break
            env, p = [], off + 48
            while p < off + 48 + env_len:
                typ, n = data[p], struct.unpack_from("<H", data, p + 1)[0]
                env.append((chr(typ), data[p + 3:p + 3 + n].decode(errors="replace")))
                p += 3 + n
            yield seq, env, data[off + 48 + env_len:off + 48 + env_len + body_len]
            off += total

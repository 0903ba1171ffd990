# SPDX-License-Identifier: ISC
"""The emulated router for the tests (board/vm): Debian's MIPS Malta
kernel under qemu-system-mipsel, BusyBox, the release mipsel nomx started
by its own init script, its spool on a simulated flash chip.

The console (ttyS0) is a Unix socket the test types shell commands into;
SMTP reaches the guest's nomx through qemu's port forwarding on
127.0.0.1.  `make test` builds the image and names its folder in VM.
"""
import os
import re
import socket
import subprocess
import tempfile
import time

import harness

VM_DIR = os.environ.get("VM", "")
HERE = os.path.dirname(os.path.abspath(__file__))
QEMU_SH = os.path.join(HERE, "..", "..", "board", "vm", "qemu.sh")


def need_vm():
    if not VM_DIR:
        raise harness.Skip("the emulated router runs in the host's plain `make test` only")


def versions():
    with open(os.path.join(VM_DIR, "debs", "versions")) as f:
        return f.read().strip()


class Router:
    """One boot of the emulated router."""

    def __init__(self, fs="ubifs", uart2="none", append="", tap="", lan=""):
        self.dir = tempfile.mkdtemp(prefix="nomx-vm-", dir=harness.TMP)
        self.sock_path = os.path.join(self.dir, "console")
        self.port = harness.free_port()
        self.tls_port = harness.free_port()
        self.log_path = os.path.join(self.dir, "console.log")
        env = dict(os.environ, FS=fs, PORT=str(self.port), TLSPORT=str(self.tls_port),
                   CONSOLE="unix:" + self.sock_path, UART2=uart2,
                   APPEND=append, TAP=tap, LAN=lan)
        self.qemu_err = open(os.path.join(self.dir, "qemu.out"), "wb")
        self.proc = subprocess.Popen([QEMU_SH, VM_DIR], env=env, stdout=self.qemu_err,
                                     stderr=subprocess.STDOUT)
        self.console = ""           # everything the console printed
        self.log = open(self.log_path, "w")
        self.sock = None
        self.uart2_pty = None
        self._connect()
        self.wait_for("nomx ready", timeout=180)
        self.n = 0
        if uart2 == "pty":
            self.uart2_pty = self._pty_path()

    def _connect(self):
        deadline = time.time() + 30
        while True:
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.sock_path)
                self.sock = s
                return
            except OSError:
                s.close()
                if time.time() > deadline or self.proc.poll() is not None:
                    raise AssertionError("qemu did not start: " + self.qemu_output())
                time.sleep(0.1)

    def _pty_path(self):
        deadline = time.time() + 10
        while time.time() < deadline:
            m = re.search(r"char device redirected to (/dev/pts/\d+)", self.qemu_output())
            if m:
                return m.group(1)
            time.sleep(0.1)
        raise AssertionError("qemu named no pty: " + self.qemu_output())

    def qemu_output(self):
        with open(os.path.join(self.dir, "qemu.out"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return ""
        if not data:
            raise AssertionError("the router's console closed; it printed:\n" + self.console[-3000:])
        text = data.decode("utf-8", "replace").replace("\r", "")
        self.console += text
        self.log.write(text)
        self.log.flush()
        return text

    def wait_for(self, pattern, timeout=60, since=0):
        """Read the console until `pattern` (a regex) shows after `since`."""
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(self.console, since)
            if m:
                return m
            left = deadline - time.time()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError("the router never printed %r; its console ends:\n%s"
                                     % (pattern, self.console[-3000:]))
            self._read(min(left, 1.0))

    def sh(self, command, timeout=60, check=True):
        """Run a shell command on the console; (status, output)."""
        self.n += 1
        since = len(self.console)
        # One line, so that nothing is typed ahead while the command runs
        # (BusyBox's line editor would echo it into the output), with
        # markers around the output that the echo of the line itself
        # never matches.
        try:
            self.sock.sendall(('echo "@@""BEGIN %d"; (%s); echo "@@""DONE %d $?"\n'
                               % (self.n, command, self.n)).encode())
        except OSError as e:
            raise AssertionError("the router is gone (qemu exit %s: %s); its console ends:\n%s"
                                 % (self.proc.poll(), e, self.console[-2000:]))
        begin = self.wait_for("@@BEGIN %d\n" % self.n, timeout, since)
        m = self.wait_for("@@DONE %d (\\d+)\n" % self.n, timeout, begin.end())
        out = self.console[begin.end():m.start()]
        rc = int(m.group(1))
        if check and rc != 0:
            raise AssertionError("`%s` on the router: exit %d\n%s" % (command, rc, out))
        return rc, out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.sock:
            self.sock.close()
        self.log.close()
        self.qemu_err.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

# SPDX-License-Identifier: ISC
"""The sandbox (README "Security"): once start-up is done the daemon
runs under a seccomp allowlist, with no_new_privs.  A call outside it,
what a parser bug turned exploit would make, ends the process with
SIGSYS; the spool keeps every message answered 250, and a restart
serves again.  The rest of the suite runs with the filter on: that is
what shows the list is complete.

Where it is tested: the host's plain build (these tests), and the
release mipsel binary on the emulated router's MIPS kernel (test_vm).
qemu-user refuses seccomp, as a kernel without it does, so under qemu
the test is that nomx says so once and serves; the sanitizer and
valgrind builds leave the filter out (their runtimes make calls of
their own), see tests/ci-skips."""
import os
import signal

from harness import RUNNER, WAIT, Client, Server, Skip, smtplib_send, stored_body

# 0, 64 KiB and 1 MiB bodies, over each transport, on one daemon.
SIZES = (0, 64 * 1024, 1024 * 1024)


def _kind():
    if RUNNER[:1] and os.path.basename(RUNNER[0]).startswith("qemu"):
        return "qemu"
    if RUNNER[:1] == ["valgrind"] or os.environ.get("TESTKIND") == "asan":
        return "no filter in this build"
    return "host"


def _need_filter():
    if _kind() != "host":
        raise Skip("the filter is not enforced here: %s" % _kind())


def _body(tag, size):
    """About size bytes (0: nothing at all), CRLF-ended lines."""
    if size == 0:
        return b""
    head = b"From: cam@example.com\r\nSubject: %s\r\n\r\n" % tag.encode()
    line = b"x" * 76 + b"\r\n"
    return head + line * (size // len(line))


def _check_spool(s, sent):
    """The spool holds exactly the messages sent, in order (smtplib
    sends the empty one as one empty line: the wire has no shorter)."""
    stored = [stored_body(s.cat(row[0]))[2] for row in s.ls()]
    assert stored == [m or b"\r\n" for m in sent], [len(m) for m in stored]


def _send(s, mode, msg):
    smtplib_send(s, mode, msg)


def _status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)


def test_the_running_daemon_is_filtered():
    """Seccomp mode 2 and no_new_privs once running; mail of every size
    over every transport, a SIGHUP key reload, and a clean stop all
    happen inside the filter."""
    _need_filter()
    s = Server(tls=True).start()
    st = _status(s.proc.pid)
    assert (st["Seccomp"], st["NoNewPrivs"]) == ("2", "1"), (st["Seccomp"], st["NoNewPrivs"])
    assert "sandbox: on," in s.log()
    sent = []
    for rnd in range(2):
        for mode in ("plain", "starttls", "smtps"):
            for size in SIZES:
                msg = _body("%s-%d-%d" % (mode, size, rnd), size)
                _send(s, mode, msg)
                sent.append(msg)
        mark = s.log_mark()
        s.proc.send_signal(signal.SIGHUP)   # reopens key and certificate
        s.wait_log(r"sighup: reloading", since=mark)
    assert s.stop() == 0
    _check_spool(s, sent)


def _forbidden_call_ends_the_daemon(call):
    _need_filter()
    s = Server(tls=True, env={"NOMX_FORBID": call + ":2"}).start()
    first = _body("before", 1000)
    _send(s, "starttls", first)                 # the 1st client
    c = Client(s.port, greet=False)             # the 2nd: the call
    assert c.closed(WAIT), "the daemon lives on:\n" + s.log()
    rc = s.proc.wait(WAIT)
    assert rc == -signal.SIGSYS, "nomx ended with %r, not SIGSYS:\n%s" % (rc, s.log())
    log = s.log()
    assert "test: making the forbidden call %s:2" % call in log, log
    assert "returned" not in log, log
    # A restart recovers the spool and serves.
    del s.env["NOMX_FORBID"]
    s.start()
    after = _body("after", 1000)
    _send(s, "plain", after)
    assert s.stop() == 0
    _check_spool(s, [first, after])


def test_a_new_internet_socket_ends_the_daemon_and_loses_nothing():
    _forbidden_call_ends_the_daemon("socket")


def test_running_a_program_ends_the_daemon_and_loses_nothing():
    _forbidden_call_ends_the_daemon("execve")


def test_a_kernel_that_cannot_filter_is_said_once_and_mail_flows():
    """qemu-user refuses seccomp (EINVAL), as a kernel built without
    SECCOMP_FILTER does: nomx says so once and serves."""
    if _kind() != "qemu":
        raise Skip("only qemu-user stands for a kernel without seccomp here")
    s = Server(tls=True).start()
    log = s.log()
    assert log.count("sandbox: this kernel cannot filter system calls") == 1, log
    for mode in ("plain", "starttls", "smtps"):
        _send(s, mode, _body(mode, 64 * 1024))
    assert len(s.ls()) == 3
    assert s.stop() == 0

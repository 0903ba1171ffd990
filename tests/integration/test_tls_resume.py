# SPDX-License-Identifier: ISC
"""TLS session resumption (config.h NOMX_TLS_SESSION_CACHE): a client
that comes back with its session ID skips the key exchange, on the
STARTTLS and the SMTPS port, with Python's ssl (session reuse) and
`openssl s_client -sess_out/-sess_in`; mail goes through the resumed
session like any other.  A session is not resumed once the cache has
evicted it (more new clients than it holds) or once the key changed
(`keygen -f` and SIGHUP)."""
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time

from harness import HOST, TMP, WAIT, Server, expect, queued_seq, stored_body

# The cache holds 100-byte entries (the dev config: 4096 bytes).
CACHE_SESSIONS = 40
MSG = b"Subject: resumed\r\n\r\nsent over a resumed session\r\n"


def _context(s):
    ctx = ssl.create_default_context(cafile=os.path.join(s.spool, "cert.pem"))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _unverified():
    """For the eviction and key-change test: the certificate changes
    under one context (whose sessions must stay usable with it), and
    both have the same name; what was presented is compared instead."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _cert_der(s):
    with open(os.path.join(s.spool, "cert.pem")) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def _line(f):
    return f.readline().decode()


def _reply(f):
    lines = [_line(f)]
    while lines[-1][3:4] == "-":
        lines.append(_line(f))
    return int(lines[-1][:3]), lines


def _connect(s, mode, ctx, session=None, nodelay=False):
    """A TLS connection (STARTTLS or SMTPS) after EHLO; returns the
    wrapped socket and its reader.  Nagle stays on, as in most clients,
    unless nodelay."""
    if mode == "smtps":
        raw = socket.create_connection(("127.0.0.1", s.tls_port), timeout=WAIT)
        tls = ctx.wrap_socket(raw, server_hostname=HOST, session=session)
        f = tls.makefile("rb")
        assert _reply(f)[0] == 220
    else:
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=WAIT)
        if nodelay:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = raw.makefile("rb")
        assert _reply(f)[0] == 220
        raw.sendall(b"EHLO resume.example\r\n")
        assert _reply(f)[0] == 250
        raw.sendall(b"STARTTLS\r\n")
        assert _reply(f)[0] == 220
        tls = ctx.wrap_socket(raw, server_hostname=HOST, session=session)
        f = tls.makefile("rb")
    tls.sendall(b"EHLO resume.example\r\n")
    assert _reply(f)[0] == 250
    return tls, f


def _session(s, mode, ctx, session=None, cert=None, nodelay=False):
    """Connect (offering session), QUIT; (the session, whether reused).
    With cert, the server must have presented that certificate."""
    tls, f = _connect(s, mode, ctx, session, nodelay)
    got, reused = tls.session, tls.session_reused
    if cert is not None:
        assert tls.getpeercert(binary_form=True) == cert
    tls.sendall(b"QUIT\r\n")
    _reply(f)
    tls.close()
    return got, reused


def _send(tls, f):
    for cmd, code in ((b"MAIL FROM:<cam@example.com>", 250),
                      (b"RCPT TO:<alice@mail.example.com>", 250), (b"DATA", 354)):
        tls.sendall(cmd + b"\r\n")
        assert _reply(f)[0] == code, cmd
    tls.sendall(MSG + b".\r\n")
    code, lines = _reply(f)
    assert code == 250, lines
    return queued_seq("".join(lines))


def test_python_ssl_resumes_on_both_ports_and_mail_flows():
    with Server(tls=True) as s:
        for mode in ("starttls", "smtps"):
            ctx = _context(s)
            first, reused = _session(s, mode, ctx)
            assert not reused and first is not None, mode
            # Twice more from the same session; mail over the second.
            _, reused = _session(s, mode, ctx, first)
            assert reused, mode
            tls, f = _connect(s, mode, ctx, first)
            assert tls.session_reused, mode
            seq = _send(tls, f)
            seq2 = _send(tls, f)
            tls.sendall(b"QUIT\r\n")
            tls.close()
            for q in (seq, seq2):
                assert stored_body(s.cat(q))[2] == MSG
                # The Received: line says TLS, as for a full handshake.
                assert "ESMTPS" in stored_body(s.cat(q))[1], stored_body(s.cat(q))[1]


def test_resumed_starttls_keeps_no_client_waiting_for_an_ack():
    """A resumed handshake ends with the client's Finished.  nomx
    acknowledges it at once (TCP_QUICKACK): else a client with Nagle on
    (Python's, as most clients) holds its EHLO back for the server's
    delayed ACK, 40 ms on every resumption.  Timed against the same
    client with TCP_NODELAY, which never waits, in turns."""
    with Server(tls=True) as s:
        ctx = _context(s)
        first, _ = _session(s, "starttls", ctx)
        extra = []
        for _ in range(9):
            took = []
            for nodelay in (False, True):
                t0 = time.monotonic()
                _, reused = _session(s, "starttls", ctx, first, nodelay=nodelay)
                took.append(time.monotonic() - t0)
                assert reused
            extra.append(took[0] - took[1])
        print("# Nagle's client minus TCP_NODELAY's, per resumed STARTTLS connection: %s ms"
              % " ".join("%.0f" % (1000 * x) for x in extra))
        assert sorted(extra)[4] < 0.02, extra


def test_openssl_sess_out_sess_in():
    with Server(tls=True) as s:
        d = tempfile.mkdtemp(prefix="nomx-sess-", dir=TMP)
        sess = os.path.join(d, "sess.pem")
        base = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % s.port, "-starttls", "smtp",
                "-CAfile", os.path.join(s.spool, "cert.pem"), "-tls1_2"]
        first = subprocess.run(base + ["-sess_out", sess], input=b"QUIT\r\n",
                               capture_output=True, timeout=WAIT)
        assert b"New, TLSv1.2" in first.stdout, first.stdout[-2000:]
        again = subprocess.run(base + ["-sess_in", sess], input=b"QUIT\r\n",
                               capture_output=True, timeout=WAIT)
        assert b"Reused, TLSv1.2" in again.stdout, again.stdout[-2000:]


def test_evicted_or_rekeyed_sessions_are_not_resumed():
    with Server(tls=True) as s:
        ctx = _unverified()
        old, _ = _session(s, "starttls", ctx, cert=_cert_der(s))
        kept, _ = _session(s, "starttls", ctx)
        # More new clients than the cache holds: the oldest is gone...
        for _ in range(CACHE_SESSIONS + 5):
            _session(s, "smtps", _unverified())
            _session(s, "smtps", ctx, kept)     # ... but one in use stays (LRU)
        _, reused = _session(s, "starttls", ctx, old)
        assert not reused
        _, reused = _session(s, "starttls", ctx, kept)
        assert reused
        # A new key: nothing from before it is resumed; a full handshake
        # with the new certificate works.
        s.keygen("-f")
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + WAIT
        while s.log().count("tls: EC P-256 key") < 2:
            assert time.time() < deadline, s.log()
            time.sleep(0.05)
        new = _cert_der(s)
        _, reused = _session(s, "starttls", ctx, kept, cert=new)
        assert not reused
        fresh, reused = _session(s, "starttls", ctx, cert=new)
        assert not reused
        _, reused = _session(s, "starttls", ctx, fresh)
        assert reused

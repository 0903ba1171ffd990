# SPDX-License-Identifier: ISC
"""Every TLS session starts clean, whatever the one before it did.

An engine of the pool serves one client after another, and BearSSL
keeps some of what a handshake negotiated inside the engine: one
`openssl s_client -maxfraglen 1024` once made every later ServerHello
carry an extension no later client had asked for, and every later
client failed.  Here each unusual handshake, on the STARTTLS port and on
the SMTPS port, is followed by three different ordinary clients
(Python's ssl, openssl s_client, curl), which must all deliver.

The odd hellos are built byte by byte, so each is exactly what its name
says: the sessions are served one at a time, so they meet the same
engine the next client gets."""
import os
import smtplib
import socket
import ssl
import struct
import subprocess

from harness import Client, Server, expect, s_client

# What BearSSL's server profile here needs from a TLS 1.2 client.
SUITES = (0xcca9, 0xc02b, 0xc02c)          # ECDHE-ECDSA: ChaCha20, AES-128-GCM, AES-256-GCM
BASE_EXTS = [
    (0x000a, b"\x00\x02\x00\x17"),          # supported_groups: secp256r1
    (0x000b, b"\x01\x00"),                  # ec_point_formats: uncompressed
    (0x000d, b"\x00\x04\x04\x03\x05\x03"),  # signature_algorithms: ecdsa sha256, sha384
]


def client_hello(version=0x0303, suites=SUITES, exts=(), session_id=b""):
    body = (struct.pack(">H", version) + os.urandom(32) + bytes([len(session_id)]) + session_id +
            struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", x) for x in suites) +
            b"\x01\x00")
    ext = b"".join(struct.pack(">HH", t, len(d)) + d for t, d in BASE_EXTS + list(exts))
    body += struct.pack(">H", len(ext)) + ext
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    return b"\x16" + struct.pack(">HH", 0x0301, len(hs)) + hs


def sni(name):
    n = name.encode()
    entry = b"\x00" + struct.pack(">H", len(n)) + n
    return (0x0000, struct.pack(">H", len(entry)) + entry)


def alpn(*protos):
    lst = b"".join(bytes([len(p)]) + p for p in protos)
    return (0x0010, struct.pack(">H", len(lst)) + lst)


def max_fragment(code):
    return (0x0001, bytes([code]))


def tls_socket(s, port):
    """A socket at the point where the client's first TLS byte goes:
    after the greeting on SMTPS, after STARTTLS's 220 on the SMTP port."""
    if port == "smtps":
        c = Client(s.tls_port, greet=False, timeout=10)
    else:
        c = Client(s.port, timeout=10)
        expect(c.cmd("EHLO odd.example"), 250)
        expect(c.cmd("STARTTLS"), 220)
    return c.s


def answer(sock):
    """The server's first record: ('hello', extensions offered) for a
    ServerHello, ('alert', code) for an alert, ('closed', None)."""
    sock.settimeout(10)
    data = b""
    try:
        while len(data) < 5 or len(data) < 5 + struct.unpack(">H", data[3:5])[0]:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    if len(data) >= 7 and data[0] == 0x15:
        return "alert", data[6]
    if len(data) >= 44 and data[0] == 0x16 and data[5] == 0x02:
        hello_end = 9 + struct.unpack(">I", b"\x00" + data[6:9])[0]
        sid_len = data[5 + 4 + 34]
        p = 5 + 4 + 35 + sid_len + 3
        exts = set()
        if p + 2 <= hello_end:
            end = p + 2 + struct.unpack(">H", data[p:p + 2])[0]
            p += 2
            while p + 4 <= end:
                t, n = struct.unpack(">HH", data[p:p + 4])
                exts.add(t)
                p += 4 + n
        return "hello", exts
    return "closed", None


def raw_hello(hello, expect_kind, vanish=False):
    """Send a hand-made hello; check the kind of answer; then leave."""
    def run(s, port):
        sock = tls_socket(s, port)
        sock.sendall(hello)
        if vanish:      # gone before the server's flight is read: a reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            return
        kind, detail = answer(sock)
        assert kind == expect_kind, (kind, detail)
        if kind == "hello":
            # Only what the client asked for comes back (RFC 5246 7.4.1.4).
            assert detail <= {0x0001, 0xff01, 0x0010, 0x0000, 0x000b}, detail
        sock.close()
    return run


def silent_after(data):
    """Send some bytes of a hello, then close without waiting."""
    def run(s, port):
        sock = tls_socket(s, port)
        sock.sendall(data)
        sock.close()
    return run


def openssl(*args, renegotiate=False):
    """openssl s_client with an unusual option; it may fail or not."""
    def run(s, port):
        conn = (["-connect", "127.0.0.1:%d" % s.port, "-starttls", "smtp"] if port == "starttls"
                else ["-connect", "127.0.0.1:%d" % s.tls_port])
        stdin = b"R\n" if renegotiate else b"QUIT\r\n"
        quiet = [] if renegotiate else ["-quiet"]
        p = subprocess.Popen(["openssl", "s_client"] + quiet + conn + list(args),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            p.communicate(stdin, timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
    return run


def session_offered():
    """A client offering a session ID from an earlier session (and its
    ticket): nomx keeps no cache, so it must start a full handshake."""
    def run(s, port):
        path = os.path.join(s.dir, "tls-session")
        openssl("-sess_out", path)(s, port)
        openssl("-sess_in", path)(s, port)
    return run


ODD = {
    "max_fragment_length 512": raw_hello(client_hello(exts=[max_fragment(1)]), "hello"),
    "max_fragment_length 1024": openssl("-maxfraglen", "1024"),
    "max_fragment_length 2048": raw_hello(client_hello(exts=[max_fragment(3)]), "hello"),
    "max_fragment_length 4096": openssl("-maxfraglen", "4096"),
    "SNI for another name": openssl("-servername", "other.example"),
    "SNI, raw": raw_hello(client_hello(exts=[sni("elsewhere.example")]), "hello"),
    "ALPN": openssl("-alpn", "smtp,h2,http/1.1"),
    "ALPN, raw": raw_hello(client_hello(exts=[alpn(b"h2", b"smtp")]), "hello"),
    "unknown extensions": raw_hello(client_hello(exts=[(0x1234, b"nomx"), (0xfafa, b""),
                                                       (0x7f00, b"\x00" * 300)]), "hello"),
    "renegotiation attempt": openssl(renegotiate=True),
    "session ID offered": raw_hello(client_hello(session_id=os.urandom(32)), "hello"),
    "session resumption": session_offered(),
    "TLS 1.0 hello": raw_hello(client_hello(version=0x0301), "alert"),
    "TLS 1.1 hello": raw_hello(client_hello(version=0x0302), "alert"),
    "only unsupported suites": raw_hello(client_hello(suites=(0x0005, 0x000a, 0x002f)), "alert"),
    "truncated hello": silent_after(client_hello()[:60]),
    # Not a TLS record at all: BearSSL closes without an alert.
    "garbage hello": raw_hello(b"\x16\x03\x01\x00\x40" + os.urandom(64), "closed"),
    "vanishes mid-handshake": raw_hello(client_hello(), None, vanish=True),
}

MSG = b"From: cam@example.com\r\nSubject: after an odd hello\r\n\r\nstill fine\r\n"


def python_client(s, port):
    ctx = ssl.create_default_context(cafile=s.cert)
    if port == "smtps":
        c = smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=ctx, timeout=20)
    else:
        c = smtplib.SMTP("127.0.0.1", s.port, timeout=20)
        c.starttls(context=ctx)
    with c:
        c.sendmail("python@example.com", ["alice@mail.example.com"], MSG)


def openssl_client(s, port):
    conn = (["-connect", "127.0.0.1:%d" % s.port, "-starttls", "smtp"] if port == "starttls"
            else ["-connect", "127.0.0.1:%d" % s.tls_port])
    script = (b"EHLO openssl.example\r\nMAIL FROM:<openssl@example.com>\r\n"
              b"RCPT TO:<alice@mail.example.com>\r\nDATA\r\n" + MSG + b".\r\nQUIT\r\n")
    r = s_client(conn + ["-CAfile", s.cert, "-verify_return_error"], script)
    assert b"queued as" in r.stdout, (r.stdout + r.stderr).decode(errors="replace")[-2000:]


def curl_client(s, port):
    path = os.path.join(s.dir, "curl-msg")
    with open(path, "wb") as f:
        f.write(MSG)
    url = ("smtps://127.0.0.1:%d" % s.tls_port if port == "smtps" else "smtp://127.0.0.1:%d" % s.port)
    r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", s.cert, url, "--mail-from",
                        "curl@example.com", "--mail-rcpt", "alice@mail.example.com",
                        "--upload-file", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_every_odd_handshake_leaves_the_engine_clean():
    with Server(tls=True) as s:
        failures = []
        delivered = 0
        for port in ("starttls", "smtps"):
            for name, odd in ODD.items():
                try:
                    odd(s, port)
                except AssertionError as e:
                    failures.append("%s on %s: the odd client got %s" % (name, port, e))
                for client in (python_client, openssl_client, curl_client):
                    try:
                        client(s, port)
                        delivered += 1
                    except Exception as e:   # noqa: BLE001
                        failures.append("%s after %s on %s: %r" % (
                            client.__name__, name, port, str(e)[-300:]))
        assert not failures, "\n".join(failures)
        # Each ordinary client's message is there, and nothing else.
        rows = s.ls()
        assert len(rows) == delivered == 2 * len(ODD) * 3, (len(rows), delivered)

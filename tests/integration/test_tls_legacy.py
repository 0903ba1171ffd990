# SPDX-License-Identifier: ISC
"""The compatibility switches, against the legacy test build
(tests/legacy-config.h): TLS 1.0 and AES-CBC for old devices, RSA
keys, AUTH required and offered without TLS."""
import os
import smtplib
import ssl
import subprocess

from harness import (Server, Skip, expect, queued_seq, read_spool, session, split_received,
                     stored_body)

LEGACY = os.environ.get("NOMX_LEGACY", "")
MSG = b"Subject: legacy\r\n\r\nfrom an old printer\r\n"


def legacy_server(rsa=False):
    if not LEGACY or not os.path.exists(LEGACY):
        raise Skip("no legacy build (make legacy)")
    s = Server(binary=LEGACY, tls=not rsa)
    if rsa:
        os.makedirs(s.spool, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        os.path.join(s.spool, "key.pem"), "-out", s.cert, "-days", "2",
                        "-subj", "/CN=mail.example.com",
                        "-addext", "subjectAltName=DNS:mail.example.com,IP:127.0.0.1"],
                       check=True, capture_output=True)
    return s.start()


def s_client_cipher(port, *args):
    """(returncode, negotiated protocol, cipher) for a STARTTLS handshake."""
    r = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect",
                        "127.0.0.1:%d" % port] + list(args), input=b"QUIT\r\n",
                       capture_output=True, timeout=20)
    out = r.stdout.decode(errors="replace")
    proto = cipher = None
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Protocol  :") or line.startswith("Protocol :"):
            proto = line.split(":", 1)[1].strip()
        if line.startswith("Cipher    :") or line.startswith("Cipher :"):
            cipher = line.split(":", 1)[1].strip()
    return r.returncode, proto, cipher


def test_tls10_with_the_legacy_switch():
    s = legacy_server()
    try:
        rc, proto, cipher = s_client_cipher(s.port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
        assert rc == 0 and proto == "TLSv1" and cipher == "ECDHE-ECDSA-AES128-SHA", (rc, proto,
                                                                                     cipher)
        rc, proto, cipher = s_client_cipher(s.port, "-tls1_2")
        assert rc == 0 and proto == "TLSv1.2" and cipher == "ECDHE-ECDSA-CHACHA20-POLY1305", \
            (rc, proto, cipher)
    finally:
        s.stop()


def test_rsa_certificate_with_the_rsa_switch():
    s = legacy_server(rsa=True)
    try:
        assert "RSA key, 1 certificate" in s.log(), s.log()
        rc, proto, cipher = s_client_cipher(s.port, "-tls1_2")
        assert rc == 0 and cipher == "ECDHE-RSA-CHACHA20-POLY1305", (rc, proto, cipher)
        rc, proto, cipher = s_client_cipher(s.port, "-tls1", "-cipher", "DEFAULT@SECLEVEL=0")
        assert rc == 0 and cipher == "ECDHE-RSA-AES128-SHA", (rc, proto, cipher)
        ctx = ssl.create_default_context(cafile=s.cert)
        with smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=ctx, timeout=20) as c:
            code, text = c.login("device", "secret")
            assert (code, text[:5]) == (235, b"2.7.0"), (code, text)
            c.sendmail("old@example.com", ["bob@mail.example.com"], MSG)
        [(seq, env, stored)] = list(read_spool(s.spool))
        assert env[:3] == [("F", "old@example.com"), ("T", "bob@mail.example.com"),
                           ("M", "bob")], env
        received, rest = split_received(stored)
        assert b" with ESMTPSA id %d\r\n" % seq in received, received
        assert b"(using TLSv1.2 with cipher ECDHE-RSA-" in received, received
        assert rest == MSG, stored
    finally:
        s.stop()


def test_auth_required_and_offered_in_plaintext():
    s = legacy_server()
    try:
        c = session(s.port)
        lines = expect(c.cmd("EHLO old.example"), 250)
        assert "250-AUTH PLAIN LOGIN" in lines and "250-STARTTLS" in lines, lines
        expect(c.cmd("MAIL FROM:<old@example.com>"), 530, "5.7.0")
        expect(c.cmd("AUTH PLAIN AHNjYW5uZXIAaHVudGVyMg=="), 235)     # scanner / hunter2
        expect(c.cmd("MAIL FROM:<old@example.com>"), 250)
        expect(c.cmd("RCPT TO:<elsewhere@example.net>"), 550, "5.7.1")  # still never a relay
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(MSG + b".\r\n")
        seq = queued_seq(expect(c.reply(), 250))
        _, received, body = stored_body(s.cat(seq))
        assert "with ESMTPA id" in received, received
        assert body == MSG
    finally:
        s.stop()

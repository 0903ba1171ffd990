# SPDX-License-Identifier: ISC
"""TLS: STARTTLS and SMTPS with real clients (openssl s_client, swaks,
Python's smtplib and ssl, curl), the STARTTLS injection cases, the
handshake in the poll loop, keygen, certificate chains, reload, AUTH."""
import base64
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import threading

from harness import (HOST, RUNNER, Client, Server, Skip, expect, nomx_cmd, queued_seq, s_client,
                     session, stored_body)

MSG = b"From: ups@example.com\r\nSubject: on battery\r\n\r\nline 1\r\n..dot line\r\nlast\r\n"
UNSTUFFED = b"From: ups@example.com\r\nSubject: on battery\r\n\r\nline 1\r\n.dot line\r\nlast\r\n"


def tls_server(**kw):
    return Server(tls=True, **kw).start()


def context(s):
    """A client context that verifies nomx's certificate."""
    ctx = ssl.create_default_context(cafile=s.cert)
    return ctx


def check_stored(s, seq, proto="ESMTPS", body=UNSTUFFED):
    _, received, rest = stored_body(s.cat(seq))
    assert "with %s id %d" % (proto, seq) in received, received
    assert re.search(r"\(using TLSv1\.2 with cipher ECDHE-ECDSA-[A-Z0-9-]+\)", received), received
    assert rest == body, rest


def smtp_script(rcpt="alice@mail.example.com"):
    return (b"EHLO dev.example\r\nMAIL FROM:<ups@example.com>\r\nRCPT TO:<" + rcpt.encode() +
            b">\r\nDATA\r\n" + MSG + b".\r\nQUIT\r\n")


def test_keygen_certificate_verifies_with_openssl():
    s = Server()
    out = s.keygen()
    assert "mail.example.com" in out and "fingerprint" in out, out
    key = os.path.join(s.spool, "key.pem")
    assert os.stat(key).st_mode & 0o777 == 0o600
    text = subprocess.run(["openssl", "x509", "-in", s.cert, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout
    assert "DNS:mail.example.com" in text and "IP Address:127.0.0.1" in text, text
    assert "Subject: CN = mail.example.com" in text and "prime256v1" in text, text
    assert "ecdsa-with-SHA256" in text and "CA:FALSE" in text, text
    r = subprocess.run(["openssl", "verify", "-CAfile", s.cert, s.cert], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "OK" in r.stdout, r
    subprocess.run(["openssl", "ec", "-in", key, "-check", "-noout"], check=True,
                   capture_output=True)
    # Refuses to overwrite; -f replaces with a new key.
    before = open(s.cert).read()
    r = subprocess.run(nomx_cmd("-s", s.spool, "keygen"), capture_output=True, text=True)
    assert r.returncode == 1 and "exists" in r.stderr, r
    assert open(s.cert).read() == before
    s.keygen("-f")
    assert open(s.cert).read() != before


def test_starttls_openssl_s_client_delivers():
    with Server(tls=True) as s:
        r = s_client(["-starttls", "smtp", "-connect", "127.0.0.1:%d" % s.port], smtp_script())
        out = r.stdout.decode()
        assert "250 2.0.0 Ok: queued as" in out, (out, r.stderr)
        check_stored(s, queued_seq(out))


def test_smtps_openssl_s_client_delivers():
    with Server(tls=True) as s:
        r = s_client(["-connect", "127.0.0.1:%d" % s.tls_port], smtp_script())
        out = r.stdout.decode()
        assert out.startswith("220 mail.example.com ESMTP"), out
        assert "STARTTLS" not in out, out
        check_stored(s, queued_seq(out))


def handshake_ok(port, starttls, args):
    base = ["-connect", "127.0.0.1:%d" % port] + (["-starttls", "smtp"] if starttls else [])
    r = s_client(base + args, b"QUIT\r\n")
    return r.returncode == 0 and b"221 2.0.0" in r.stdout


def test_only_tls12_accepted_on_both_ports():
    with Server(tls=True) as s:
        for port, st in ((s.port, True), (s.tls_port, False)):
            assert handshake_ok(port, st, ["-tls1_2"])
            # The old versions, offered by a client willing to use them.
            for v in ("-tls1_1", "-tls1"):
                assert not handshake_ok(port, st, [v, "-cipher", "DEFAULT@SECLEVEL=0"]), v
            assert not handshake_ok(port, st, ["-tls1_3"])
        log = s.log()
        assert "tls-failed in the handshake" in log, log


def test_ecdhe_over_x25519_when_offered_p256_otherwise():
    """NOMX_TLS_X25519: a client offering X25519 gets it (the cheaper key
    exchange); one offering only P-256 still connects, over P-256; on
    both ports."""
    with Server(tls=True) as s:
        for port, st in ((s.port, True), (s.tls_port, False)):
            base = ["-connect", "127.0.0.1:%d" % port] + (["-starttls", "smtp"] if st else [])
            for curves, key in (("X25519:P-256", "Server Temp Key: X25519"),
                                ("P-256", "Server Temp Key: ECDH, prime256v1")):
                r = s_client(base + ["-curves", curves, "-brief"], b"QUIT\r\n")
                said = (r.stdout + r.stderr).decode()
                assert r.returncode == 0 and b"221 2.0.0" in r.stdout, said
                assert key.split(": ", 1)[1] in said, (curves, said)


def test_swaks_tls_and_tlsc():
    with Server(tls=True) as s:
        for args in (["--tls", "--server", "127.0.0.1:%d" % s.port],
                     ["--tlsc", "--server", "127.0.0.1:%d" % s.tls_port]):
            r = subprocess.run(["swaks", "--to", "bob@mail.example.com", "--from",
                                "cam@example.com", "--body", "motion at 03:12",
                                "--header", "Subject: swaks"] + args,
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stdout + r.stderr
            seq = queued_seq(r.stdout)
            _, received, rest = stored_body(s.cat(seq))
            assert "ESMTPS" in received and "TLSv1.2" in received, received
            assert b"motion at 03:12" in rest


def test_smtplib_starttls_and_smtp_ssl_verify_certificate():
    with Server(tls=True) as s:
        with smtplib.SMTP("127.0.0.1", s.port, timeout=20) as c:
            c.ehlo("printer.example")
            assert c.has_extn("starttls")
            c.starttls(context=context(s))
            c.ehlo("printer.example")
            assert not c.has_extn("starttls")
            assert c.sock.version() == "TLSv1.2"
            c.sendmail("printer@example.com", ["alice@mail.example.com"], UNSTUFFED)
        with smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=context(s), timeout=20) as c:
            c.sendmail("printer@example.com", ["a.smith@[127.0.0.1]"], UNSTUFFED)
        rows = s.ls()
        assert len(rows) == 2, rows
        for seq, _, _, _ in rows:
            check_stored(s, seq)


def test_curl_ssl_reqd():
    with Server(tls=True) as s:
        path = os.path.join(s.dir, "mail.txt")
        with open(path, "wb") as f:
            f.write(MSG.replace(b"..dot", b".dot"))
        for url in ("smtp://127.0.0.1:%d" % s.port, "smtps://127.0.0.1:%d" % s.tls_port):
            r = subprocess.run(["curl", "-sS", "--ssl-reqd", "--cacert", s.cert, url,
                                "--mail-from", "nas@example.com", "--mail-rcpt",
                                "postmaster@mail.example.com", "--upload-file", path],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
        rows = s.ls()
        assert len(rows) == 2, rows
        for seq, _, _, _ in rows:
            check_stored(s, seq)


def tls_wrap(c, s):
    """Handshake on a raw Client after its 220 to STARTTLS."""
    ctx = context(s)
    c.s = ctx.wrap_socket(c.s, server_hostname="127.0.0.1")
    c.buf = b""
    return c


def test_starttls_command_injection_is_discarded():
    with Server(tls=True) as s:
        c = session(s.port)
        # The injected MAIL (same packet as STARTTLS) must not survive.
        c.send("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
        expect(c.reply(), 220, "2.0.0")
        assert c.buf == b"", c.buf   # no reply to the injected command
        tls_wrap(c, s)
        # The session starts over: EHLO needed, no MAIL remembered.
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 503)
        expect(c.cmd("MAIL FROM:<ups@example.com>"), 503, "5.5.1")
        lines = expect(c.cmd("EHLO again.example"), 250)
        assert not any("STARTTLS" in l for l in lines), lines
        expect(c.cmd("STARTTLS"), 503, "5.5.1")
        expect(c.cmd("MAIL FROM:<ups@example.com>"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(MSG + b".\r\n")
        seq = queued_seq(expect(c.reply(), 250))
        assert [r[0] for r in s.ls()] == [seq]
        assert "evil" not in s.cat(seq).decode()


def test_starttls_pipelined_transaction_forgotten():
    with Server(tls=True) as s:
        c = session(s.port)
        expect(c.cmd("MAIL FROM:<before@example.com>"), 250)
        c.send("STARTTLS\r\nRCPT TO:<alice@mail.example.com>\r\nDATA\r\n")
        expect(c.reply(), 220)
        tls_wrap(c, s)
        expect(c.cmd("EHLO x.example"), 250)
        expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 503, "5.5.1")
        expect(c.cmd("QUIT"), 221)
        assert s.ls() == []


def test_starttls_arguments_and_no_key():
    with Server(tls=True) as s:
        c = session(s.port)
        expect(c.cmd("STARTTLS now"), 501)
        c.close()
    # Without a key: no STARTTLS offered, 454 if asked, no SMTPS port.
    with Server() as s:
        c = session(s.port)
        c.send("EHLO x.example\r\n")
        lines = expect(c.reply(), 250)
        assert not any("STARTTLS" in l for l in lines), lines
        expect(c.cmd("STARTTLS"), 454, "4.7.0")
        with socket.socket() as raw:
            assert raw.connect_ex(("127.0.0.1", s.tls_port)) != 0
        assert "serving without TLS" in s.log()


def test_stalled_handshake_does_not_block_others():
    with Server(tls=True) as s:
        stalled = socket.create_connection(("127.0.0.1", s.tls_port))
        stalled.sendall(b"\x16\x03\x01\x02\x00\x01")  # a ClientHello that never ends
        half = Client(s.port)
        half.cmd("EHLO x")
        half.send("STARTTLS\r\n")
        expect(half.reply(), 220)                    # ... and then silence
        results = []

        def one(i):
            try:
                with smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=context(s),
                                      timeout=20) as c:
                    c.sendmail("cam%d@example.com" % i, ["bob@mail.example.com"], UNSTUFFED)
                results.append(i)
            except Exception as e:  # noqa: BLE001
                results.append(repr(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(str, results)) == [str(i) for i in range(6)], results
        # All six were served while both stalled clients still held their
        # engines (they are dropped only at NOMX_TIMEOUT_TLS): nobody
        # waited for them, however slow the machine.
        assert "handshake timeout" not in s.log(), "others waited for the stalled handshake"
        # The stalled ones are dropped after NOMX_TIMEOUT_TLS (5 s in dev).
        stalled.settimeout(10)
        while stalled.recv(100):   # perhaps an alert, then the close
            pass
        assert half.closed(10)
        assert s.log().count("handshake timeout") == 2, s.log()
        assert len(s.ls()) == 6


def test_garbage_handshake_closes_only_that_connection():
    with Server(tls=True) as s:
        other = session(s.port)
        bad = socket.create_connection(("127.0.0.1", s.tls_port))
        bad.sendall(b"EHLO i-am-not-tls\r\n" * 3)
        bad.settimeout(10)
        try:
            while bad.recv(4096):
                pass
        except ConnectionResetError:
            pass
        assert re.search(r"tls-failed in the handshake: .*BearSSL error \d+", s.log()), s.log()
        expect(other.cmd("NOOP"), 250)


def test_tls_pool_exhausted_gets_454():
    with Server(tls=True) as s:
        held = []
        for _ in range(8):  # NOMX_TLS_SESSIONS in the dev config
            c = smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=context(s), timeout=20)
            c.ehlo()
            held.append(c)
        c = session(s.port)
        expect(c.cmd("STARTTLS"), 454, "4.7.0")
        raw = socket.create_connection(("127.0.0.1", s.tls_port))
        raw.settimeout(10)
        assert raw.recv(100) == b""
        mark = s.log_mark()
        held.pop().quit()
        s.wait_log(r"disconnect", since=mark)
        expect(c.cmd("STARTTLS"), 220)
        for h in held:
            h.quit()


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, capture_output=True)


def make_chain(d):
    """root CA -> intermediate CA -> leaf for mail.example.com, all EC."""
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "root.key", cwd=d)
    openssl("req", "-x509", "-new", "-key", "root.key", "-subj", "/CN=Test Root", "-days", "2",
            "-out", "root.pem", cwd=d)
    with open(os.path.join(d, "ca.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nsubjectAltName=DNS:mail.example.com,IP:127.0.0.1\n")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "int.key", cwd=d)
    openssl("req", "-new", "-key", "int.key", "-subj", "/CN=Test Intermediate", "-out", "int.csr",
            cwd=d)
    openssl("x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key",
            "-CAcreateserial", "-days", "2", "-extfile", "ca.ext", "-out", "int.pem", cwd=d)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
            "leaf.key", cwd=d)   # PKCS#8 "PRIVATE KEY"
    openssl("req", "-new", "-key", "leaf.key", "-subj", "/CN=mail.example.com", "-out",
            "leaf.csr", cwd=d)
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key",
            "-CAcreateserial", "-days", "2", "-extfile", "leaf.ext", "-out", "leaf.pem", cwd=d)


def test_chain_with_intermediate_served_in_full():
    s = Server()
    os.makedirs(s.spool, exist_ok=True)
    make_chain(s.dir)
    with open(os.path.join(s.spool, "key.pem"), "wb") as f:
        f.write(open(os.path.join(s.dir, "leaf.key"), "rb").read())
    with open(os.path.join(s.spool, "cert.pem"), "wb") as f:
        for name in ("leaf.pem", "int.pem"):
            f.write(open(os.path.join(s.dir, name), "rb").read())
    with s:
        assert "2 certificates" in s.log()
        r = subprocess.run(["openssl", "s_client", "-showcerts", "-verify_return_error",
                            "-CAfile", os.path.join(s.dir, "root.pem"), "-verify_hostname",
                            HOST, "-connect", "127.0.0.1:%d" % s.tls_port],
                           input=b"QUIT\r\n", capture_output=True, timeout=20)
        out = r.stdout.decode()
        assert r.returncode == 0, out + r.stderr.decode()
        assert out.count("-----BEGIN CERTIFICATE-----") == 2, out
        assert "Verify return code: 0 (ok)" in out, out


def test_mismatched_or_bad_key_refused_at_start():
    s = Server()
    os.makedirs(s.spool, exist_ok=True)
    make_chain(s.dir)
    with open(os.path.join(s.spool, "key.pem"), "wb") as f:
        f.write(open(os.path.join(s.dir, "int.key"), "rb").read())   # not the leaf's key
    with open(os.path.join(s.spool, "cert.pem"), "wb") as f:
        f.write(open(os.path.join(s.dir, "leaf.pem"), "rb").read())
    with s:
        assert "key does not match the first certificate" in s.log(), s.log()
        c = session(s.port)
        expect(c.cmd("STARTTLS"), 454)
    with open(os.path.join(s.spool, "key.pem"), "w") as f:
        f.write("-----BEGIN EC PRIVATE KEY-----\nnot base64 at all!\n-----END EC PRIVATE KEY-----\n")
    with s:
        assert "cannot use key" in s.log(), s.log()


def fingerprint(port):
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port],
                       input=b"QUIT\r\n", capture_output=True, timeout=20)
    pem = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", r.stdout, re.S)
    assert pem, r.stdout
    return subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                          input=pem.group(0), capture_output=True, check=True).stdout


def test_sighup_reloads_key_and_certificate():
    with Server(tls=True) as s:
        before = fingerprint(s.tls_port)
        held = smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=context(s), timeout=20)
        s.keygen("-f")
        mark = s.log_mark()
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"sighup: reloading[^\n]*\n[^\n]*certificate from", since=mark)
        after = fingerprint(s.tls_port)
        assert after != before
        # A session from before the reload carries on.
        held.sendmail("ups@example.com", ["alice@mail.example.com"], UNSTUFFED)
        held.quit()
        # A broken file on SIGHUP keeps the working key.
        with open(os.path.join(s.spool, "cert.pem"), "w") as f:
            f.write("garbage\n")
        mark = s.log_mark()
        s.proc.send_signal(signal.SIGHUP)
        s.wait_log(r"cannot use certificate", since=mark)
        assert fingerprint(s.tls_port) == after


def test_auth_only_after_tls_never_widens_acceptance():
    with Server(tls=True) as s:
        c = session(s.port)
        lines = expect(c.cmd("EHLO x.example"), 250)
        assert not any("AUTH" in l for l in lines), lines
        expect(c.cmd("AUTH PLAIN AGRldmljZQBzZWNyZXQ="), 538, "5.7.11")
        c.send("STARTTLS\r\n")
        expect(c.reply(), 220)
        tls_wrap(c, s)
        lines = expect(c.cmd("EHLO x.example"), 250)
        assert "250-AUTH PLAIN LOGIN" in lines, lines
        expect(c.cmd("AUTH PLAIN AGRldmljZQB3cm9uZw=="), 535, "5.7.8")    # device / wrong
        expect(c.cmd("AUTH CRAM-MD5"), 504)
        expect(c.cmd("AUTH LOGIN"), 334)
        expect(c.cmd("*"), 501, "5.7.0")
        expect(c.cmd("AUTH PLAIN"), 334)
        expect(c.cmd("!!notbase64"), 501)
        expect(c.cmd("AUTH LOGIN"), 334)
        expect(c.cmd("QUFB" * 400), 500, "5.5.2")                          # too long: over
        expect(c.cmd("NOOP"), 250)
        expect(c.cmd("AUTH LOGIN ZGV2aWNl"), 334)                          # "device"
        expect(c.cmd("c2VjcmV0"), 235, "2.7.0")                            # "secret"
        expect(c.cmd("AUTH PLAIN AGRldmljZQBzZWNyZXQ="), 503)
        # Authenticated, and still no relay, no unknown users.
        expect(c.cmd("MAIL FROM:<ups@example.com> AUTH=<>"), 250)
        expect(c.cmd("RCPT TO:<someone@example.org>"), 550, "5.7.1")
        expect(c.cmd("RCPT TO:<nobody@mail.example.com>"), 550, "5.1.1")
        expect(c.cmd("RCPT TO:<bob@mail.example.com>"), 250)
        expect(c.cmd("DATA"), 354)
        c.send(MSG + b".\r\n")
        seq = queued_seq(expect(c.reply(), 250))
        check_stored(s, seq, proto="ESMTPSA")
        assert "auth ok user=device" in s.log() and "auth failed user=device" in s.log()
        # smtplib's own AUTH over SMTPS: the exact replies, since login()
        # returns normally on 503 as well as on 235.
        with smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=context(s), timeout=20) as m:
            try:
                m.login("scanner", "wrong")
                raise AssertionError("a wrong password was taken")
            except smtplib.SMTPAuthenticationError as e:
                assert e.smtp_code == 535 and e.smtp_error.startswith(b"5.7.8"), e
        with smtplib.SMTP_SSL("127.0.0.1", s.tls_port, context=context(s), timeout=20) as m:
            code, text = m.login("scanner", "hunter2")
            assert (code, text[:5]) == (235, b"2.7.0"), (code, text)
            m.sendmail("scan@example.com", ["alice@mail.example.com"], UNSTUFFED)
            again = base64.b64encode(b"\0scanner\0wrong").decode()
            code, text = m.docmd("AUTH", "PLAIN " + again)
            assert (code, text[:5]) == (503, b"5.5.1"), (code, text)


def test_sslscan_offers_exactly_the_profile():
    if subprocess.run(["sh", "-c", "command -v sslscan"], capture_output=True).returncode:
        raise Skip("sslscan not installed")
    expected = {("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"),
                ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"),
                ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384")}
    with Server(tls=True) as s:
        for args in (["--starttls-smtp", "127.0.0.1:%d" % s.port],
                     ["127.0.0.1:%d" % s.tls_port]):
            r = subprocess.run(["sslscan", "--no-colour", "--no-heartbleed"] + args,
                               capture_output=True, text=True, timeout=120)
            out = r.stdout
            got = set(re.findall(r"^(?:Preferred|Accepted)\s+(TLSv1\.\d|SSLv\d)\s+\d+ bits\s+(\S+)",
                                 out, re.M))
            assert got == expected, out
            for proto in ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.3"):
                assert re.search(proto.replace(".", r"\.") + r"\s+disabled", out), (proto, out)
            assert re.search(r"TLSv1\.2\s+enabled", out), out
            assert "Session renegotiation not supported" in out, out
            assert re.search(r"Preferred\s+TLSv1\.2\s+256 bits\s+ECDHE-ECDSA-CHACHA20-POLY1305",
                             out), out


# testssl.sh findings that follow from a self-signed device certificate
# (README, "TLS": what a scanner says about nomx and why), and the one
# that is about the scanner's own OpenSSL, not about the server.
TESTSSL_EXPECTED = {
    "cert_chain_of_trust": "no CA vouches for a certificate the device made itself",
    "cert_revocation": "a self-signed certificate has no CA to publish a CRL or OCSP",
    "engine_problem": "testssl.sh's OpenSSL has no GOST engine (a note on the scanner)",
}
# On the STARTTLS port only: testssl.sh sees "Reused" from s_client but
# also more bytes read than written, which it takes for a new session;
# those bytes are the SMTP greeting and EHLO reply before the handshake
# (on the SMTPS port the same check says "supported", asserted below).
TESTSSL_EXPECTED_STARTTLS = {
    "sessionresumption_ID": "testssl.sh counts the plaintext SMTP replies as handshake bytes",
}


def test_testssl_finds_nothing_above_low_on_both_ports():
    """Debian's testssl.sh against the STARTTLS and SMTPS ports at once:
    protocols, cipher lists, forward secrecy, server defaults (the
    certificate) and every vulnerability check.  Nothing may be rated
    above LOW, and no WARN, but the self-signed findings listed above."""
    if not shutil.which("testssl"):
        raise Skip("testssl.sh not installed")
    if RUNNER:
        raise Skip("testssl.sh probes for about a minute a port: host runs only")
    with Server(tls=True) as s:
        runs = []
        for name, args in (("starttls", ["--starttls", "smtp", "127.0.0.1:%d" % s.port]),
                           ("smtps", ["127.0.0.1:%d" % s.tls_port])):
            out = os.path.join(s.dir, "testssl-%s.json" % name)
            runs.append((name, out, subprocess.Popen(
                ["testssl", "--quiet", "--color", "0", "--warnings", "off", "-p", "-s", "-f", "-P",
                 "-S", "-U", "--jsonfile", out] + args,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
        bad = []
        for name, out, p in runs:
            text = p.communicate(timeout=300)[0].decode(errors="replace")
            with open(out) as f:
                findings = json.load(f)
            assert len(findings) > 50, text[-3000:]     # it really ran its checks
            for f in findings:
                if f["severity"] in ("WARN", "MEDIUM", "HIGH", "CRITICAL") and \
                        f["id"] not in TESTSSL_EXPECTED and \
                        not (name == "starttls" and f["id"] in TESTSSL_EXPECTED_STARTTLS):
                    bad.append("%s: %s %s %s" % (name, f["severity"], f["id"], f["finding"]))
            if name == "smtps":
                ids = [(f["id"], f["finding"]) for f in findings if f["id"] == "sessionresumption_ID"]
                assert ids == [("sessionresumption_ID", "supported")], ids
        assert not bad, "\n".join(bad)

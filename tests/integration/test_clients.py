# SPDX-License-Identifier: ISC
"""Real third-party clients against the real binary: swaks (plain and
pipelined) and curl's SMTP client.  Each message is read back from the
spool byte for byte."""
import os
import re
import shutil
import subprocess

from harness import Skip, shared_server, stored_body


def _need(tool):
    if not shutil.which(tool):
        raise Skip("%s not installed" % tool)


def _seq(output):
    m = re.search(r"250 2\.0\.0 Ok: queued as (\d+)", output)
    assert m, output
    return int(m.group(1))


def test_swaks_plain_and_pipelined():
    _need("swaks")
    s = shared_server()
    for extra in ([], ["--pipeline"]):
        # swaks ends the data with CRLF . CRLF itself.
        body = "Subject: swaks %s\r\n\r\nfrom swaks" % " ".join(extra)
        r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % s.port, "--ehlo", "swaks.example",
                            "--from", "ups@ups.example", "--to", "alice.smith@mail.example.com",
                            "--data", body, *extra], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr
        seq = _seq(r.stdout)
        rp, received, stored = stored_body(s.cat(seq))
        assert rp == "ups@ups.example"
        assert stored == body.encode() + b"\r\n", stored
        assert "from swaks.example ([127.0.0.1])" in received


def test_swaks_relay_refused():
    _need("swaks")
    s = shared_server()
    r = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % s.port, "--from", "x@evil.example",
                        "--to", "victim@gmail.example"], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "550 5.7.1 Relay access denied" in r.stdout, r.stdout


def test_curl_smtp_upload():
    _need("curl")
    s = shared_server()
    path = os.path.join(s.dir, "curl-msg.txt")
    body = b"From: cam@cam.example\r\nSubject: curl\r\n\r\n.dot line from curl\r\nend\r\n"
    with open(path, "wb") as f:
        f.write(body)
    r = subprocess.run(["curl", "-sS", "-v", "smtp://127.0.0.1:%d/cam.example" % s.port,
                        "--mail-from", "cam@cam.example", "--mail-rcpt", "bob@[127.0.0.1]",
                        "--upload-file", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    seq = _seq(r.stderr)
    rp, received, stored = stored_body(s.cat(seq))
    assert rp == "cam@cam.example" and stored == body, stored


def test_curl_relay_refused():
    _need("curl")
    s = shared_server()
    r = subprocess.run(["curl", "-sS", "smtp://127.0.0.1:%d" % s.port, "--mail-from", "a@b.example",
                        "--mail-rcpt", "x@[10.1.2.3]", "-T", "/dev/null"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "550" in r.stderr, r.stderr

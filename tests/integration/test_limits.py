# SPDX-License-Identifier: ISC
"""Connection limits and load: the per-address cap, a full pool, and
Postfix's smtp-source pushing concurrent sessions (dev config: 24 slots,
20 per address)."""
import os
import re
import subprocess
import time

from harness import TOOLS, Client, Recorder, Server, Skip, expect, read_spool


def _hold(port, src, n):
    return [Client(port, src=src) for _ in range(n)]


def test_per_address_cap():
    s = Server().start()
    held = _hold(s.port, "127.0.0.1", 20)
    c = Client(s.port, greet=False)
    code, lines = c.reply()
    assert code == 421 and "4.7.0" in lines[0], lines
    assert c.closed()
    # Another address still gets in.
    other = Client(s.port, src="127.0.0.2")
    expect(other.cmd("NOOP"), 250)
    for h in held:
        h.close()
    s.stop()


def test_full_pool_421():
    """Every slot held by a session that just finished a command: a new
    client is refused (idle ones would give way: test_pressure)."""
    s = Server().start()
    held = _hold(s.port, "127.0.0.1", 20) + _hold(s.port, "127.0.0.2", 4)
    for h in held:
        expect(h.cmd("NOOP"), 250)
    c = Client(s.port, src="127.0.0.3", greet=False)
    code, lines = c.reply()
    assert code == 421 and "4.3.2" in lines[0], lines
    assert c.closed()
    mark = s.log_mark()
    held.pop().close()
    s.wait_log(r"client=127\.0\.0\.2 disconnect", since=mark)
    ok = Client(s.port, src="127.0.0.3")
    expect(ok.cmd("QUIT"), 221)
    s.stop()


def _smtp_source():
    path = os.path.join(TOOLS, "usr/sbin/smtp-source")
    if not os.path.exists(path):
        raise Skip("smtp-source not unpacked (make test does it)")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(TOOLS, "usr/lib/postfix"))
    return path, env


def test_smtp_source_concurrent_load():
    """Postfix's load generator, 10 sessions at once: every message it
    put on the wire (read through a recording proxy) is stored once,
    byte for byte, in sequence."""
    src, env = _smtp_source()
    s = Server().start()
    rec = Recorder(s.port)
    n = 300
    t0 = time.time()
    r = subprocess.run([src, "-s", "10", "-m", str(n), "-l", "2048", "-f", "load@src.example",
                        "-t", "alice@mail.example.com", "-M", "src.example",
                        "127.0.0.1:%d" % rec.port], env=env, capture_output=True, text=True,
                       timeout=120)
    took = time.time() - t0
    assert r.returncode == 0, r.stdout + r.stderr
    sent = sorted(rec.messages())
    rec.close()
    stored = list(read_spool(s.spool))
    assert [seq for seq, _, _ in stored] == list(range(1, n + 1))
    assert len(sent) == n, len(sent)
    bodies = sorted(re.sub(rb"^Received: [^\r]*\r\n(\t[^\r]*\r\n)*", b"", body)
                    for _, _, body in stored)
    assert bodies == sent, "stored messages differ from what smtp-source sent"
    assert all(len(b) > 2048 for b in sent)
    print("#   smtp-source: %d messages, 10 sessions, %.2fs" % (n, took))
    s.stop()

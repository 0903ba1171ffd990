# SPDX-License-Identifier: ISC
"""The spool against the real binary: sequence across restarts, torn
tail recovery, segment rotation, failed writes and syncs (fault
injection of the test build), the free-space reserve, the spool tool,
and what flash sees per message (strace)."""
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

from harness import (RUNNER, Server, Skip, deliver, expect, is_root, nomx_cmd,
                     queued_seq, read_spool, session, stored_body)


def _body(i, size=200):
    head = b"Subject: m%d\r\n\r\n" % i
    return head + (b"%d " % i * (size // 4 + 1))[:size] + b"\r\n"


def test_sequence_continues_across_restart():
    s = Server().start()
    seqs = [deliver(s.port, _body(i)) for i in range(3)]
    assert seqs == [1, 2, 3], seqs
    s.stop()
    s.start()
    assert deliver(s.port, _body(4)) == 4
    assert [r[0] for r in s.ls()] == [1, 2, 3, 4]
    s.stop()


def test_torn_tail_cut_at_restart():
    s = Server().start()
    bodies = {deliver(s.port, _body(i, 3000)): _body(i, 3000) for i in range(2)}
    s.stop()
    seg = sorted(glob.glob(os.path.join(s.spool, "seg", "*.nmx")))[-1]
    good = os.path.getsize(seg)
    with open(seg, "ab") as f:
        # A record header that claims more than is there, then zeros:
        # what a power cut mid-append leaves.
        f.write(b"NMX1" + b"\x01\x00\x30\x00" + b"\x00" * 1000)
    s.start()
    assert "recover seg=seg/" in s.log(), s.log()
    assert os.path.getsize(seg) == good
    seq = deliver(s.port, _body(9))
    assert seq == 3
    bodies[seq] = _body(9)
    for q, b in bodies.items():
        assert stored_body(s.cat(q))[2] == b
    s.stop()


def test_segments_rotate_and_stay_readable():
    s = Server().start()
    big = {}
    for i in range(14):
        b = _body(i, 150 * 1024)
        big[deliver(s.port, b)] = b
    segs = glob.glob(os.path.join(s.spool, "seg", "*.nmx"))
    assert len(segs) >= 2, segs
    assert all(os.path.getsize(p) <= 1024 * 1024 + 200 * 1024 for p in segs)
    s.stop()
    s.start()
    assert deliver(s.port, _body(99)) == 15
    for q, b in big.items():
        assert stored_body(s.cat(q))[2] == b
    s.stop()


def test_failed_write_gets_452_and_nothing_partial():
    s = Server(env={"NOMX_FAULT": "writev:2"}).start()
    a = deliver(s.port, _body(1))
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(_body(2) + b".\r\n")
    expect(c.reply(), 452, "4.3.1")
    c.cmd("QUIT")
    b = deliver(s.port, _body(3))
    assert [r[0] for r in s.ls()] == [a, b]
    assert stored_body(s.cat(b))[2] == _body(3)
    s.stop()
    s.start()           # recovery finds nothing torn: the cut was clean
    assert "recover seg" not in s.log()
    assert [r[0] for r in s.ls()] == [a, b]
    s.stop()


def test_failed_sync_gets_451_and_moves_segment():
    s = Server(env={"NOMX_FAULT": "fdatasync:2"}).start()
    a = deliver(s.port, _body(1))           # group commit 1; the next one fails
    c = session(s.port)
    expect(c.cmd("MAIL FROM:<a@a.example>"), 250)
    expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
    expect(c.cmd("DATA"), 354)
    c.send(_body(2) + b".\r\n")
    expect(c.reply(), 451, "4.3.0")
    c.cmd("QUIT")
    b = deliver(s.port, _body(3))
    assert b > a + 1, (a, b)            # the failed one's seq is never reused
    assert len(glob.glob(os.path.join(s.spool, "seg", "*.nmx"))) == 2
    assert [r[0] for r in s.ls()] == [a, b]
    s.stop()
    s.start()
    assert deliver(s.port, _body(4)) == b + 1
    assert [stored_body(s.cat(q))[2] for q in (a, b)] == [_body(1), _body(3)]
    s.stop()


def test_free_space_reserve_gives_452():
    if not is_root():
        raise Skip("needs root to mount a small tmpfs")
    mnt = tempfile.mkdtemp(prefix="nomx-small-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], check=True)
    try:
        os.chmod(mnt, 0o755)
        s = Server(spool=os.path.join(mnt, "spool")).start()
        stored = {}
        refused = False
        for i in range(12):
            c = session(s.port)
            code, lines = c.cmd("MAIL FROM:<a@a.example> SIZE=300000")
            if code == 452:
                assert "4.3.1" in lines[0]
                refused = True
                break
            expect((code, lines), 250)
            expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
            expect(c.cmd("DATA"), 354)
            b = _body(i, 300000)
            c.send(b + b".\r\n")
            code, lines = c.reply()
            if code == 452:
                refused = True
                break
            stored[queued_seq(expect((code, lines), 250))] = b
            c.cmd("QUIT")
        assert refused and len(stored) >= 3, stored.keys()
        for q, b in stored.items():
            assert stored_body(s.cat(q))[2] == b
        s.stop()
    finally:
        subprocess.run(["umount", mnt])
        os.rmdir(mnt)


def test_spool_tool():
    s = Server().start()
    seq = deliver(s.port, _body(1), to=("alice@mail.example.com", "bob@[127.0.0.1]"),
                  sender="ups@ups.example")
    out = subprocess.run(nomx_cmd("-s", s.spool, "spool", "ls"), capture_output=True,
                         check=True).stdout.decode()
    assert re.match(r"^1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \d+ <ups@ups.example> "
                    r"<alice@mail.example.com> <bob@\[127.0.0.1\]>$", out.strip()), out
    raw = s.cat(seq)
    assert raw.startswith(b"Return-Path: <ups@ups.example>\r\nReceived: from client.example")
    r = subprocess.run(nomx_cmd("-s", s.spool, "spool", "cat", "42"), capture_output=True)
    assert r.returncode == 1 and b"no message 42" in r.stderr
    r = subprocess.run(nomx_cmd("-s", s.spool, "spool", "cat", "x"), capture_output=True)
    assert r.returncode == 100
    r = subprocess.run(nomx_cmd("-s", "/nonexistent", "spool", "ls"), capture_output=True)
    assert r.returncode == 111 and b"/nonexistent" in r.stderr
    s.stop()


def test_quota_counts_records_not_the_holes_between_commits():
    """Each commit starts a fresh 4 KiB block; the holes take no flash
    and the quota does not count them: `spool status` and the daemon's
    own count at start give the segment headers plus the records, as an
    independent reader of the format sums them, well below the files'
    lengths."""
    s = Server().start()
    for i in range(12):
        deliver(s.port, _body(i, 700))     # one at a time: a commit each
    s.stop()
    segs = glob.glob(os.path.join(s.spool, "seg", "*.nmx"))
    records = sum(48 + sum(3 + len(v.encode()) for _, v in env) + len(body) + 8
                  for _, env, body in read_spool(s.spool))
    want = 32 * len(segs) + records
    length = sum(os.path.getsize(p) for p in segs)
    assert length > want + 12 * 3000, (length, want)
    status = subprocess.run(nomx_cmd("-s", s.spool, "spool", "status"), capture_output=True,
                            text=True, check=True).stdout
    assert re.search(r"segments +%d, %d bytes " % (len(segs), want), status), (want, status)
    s.start()
    assert "unacked=12 bytes=%d " % want in s.log(), (want, s.log())
    s.stop()


def _traced(s, send):
    """Run send() while strace watches the daemon's file system calls;
    returns (call counts, 250s answered).  Checks on the way that no
    250 goes out before an fdatasync that follows its message's pwritev,
    and that each commit's first record starts a fresh 4 KiB block and
    the others follow it (nomx-spool(5))."""
    if RUNNER or not shutil.which("strace"):
        raise Skip("needs strace on the host CPU")
    trace = os.path.join(s.dir, "strace")
    st = subprocess.Popen(["strace", "-f", "-s", "40", "-o", trace, "-p", str(s.proc.pid), "-e",
                           "trace=openat,creat,rename,renameat,renameat2,unlink,unlinkat,"
                           "writev,pwritev,pwrite64,fsync,fdatasync,write"],
                          stderr=subprocess.PIPE)
    st.stderr.readline()        # "strace: Process N attached": tracing from here
    send()
    st.send_signal(signal.SIGINT)
    st.wait(10)
    calls = {}
    unsynced = 0                # messages appended since the last fdatasync
    answered = 0
    end = None                  # of the last record written
    with open(trace) as f:
        for l in f:
            m = re.match(r"\d+\s+(\w+)\(", l)
            if not m:
                continue
            name = m.group(1)
            calls[name] = calls.get(name, 0) + 1
            if name == "pwritev":
                at, n = map(int, re.search(r", (\d+)\)\s+= (\d+)$", l).groups())
                block = -(-(end or 0) // 4096) * 4096
                assert at == (end if unsynced else block) or end is None and at % 4096 == 0, \
                    ("record at %d after one ending at %s" % (at, end), l)
                unsynced += 1
                end = at + n
            elif name == "fdatasync":
                unsynced = 0
            elif name == "write" and "queued as" in l:
                answered += 1
                assert unsynced == 0, "250 before the fdatasync of its message: " + l
    return calls, answered


def test_flash_sees_one_append_per_message():
    """20 messages, one after another: each is one pwritev to the open
    segment and nothing else touches the flash (no file created, renamed
    or rewritten per message), and each 250 goes out only after an
    fdatasync that follows that message's pwritev.  A lone sender is
    never held for the group commit: one fdatasync each."""
    s = Server().start()
    deliver(s.port, _body(0))   # creates the segment
    n = 20
    calls, answered = _traced(s, lambda: [deliver(s.port, _body(i + 1, 1000)) for i in range(n)])
    s.stop()
    assert answered == n, (answered, calls)
    assert calls.get("pwritev", 0) == n, calls
    assert calls.get("fdatasync", 0) == n, calls
    assert "group-commit" not in s.log(), s.log()
    for bad in ("openat", "creat", "rename", "renameat", "renameat2", "unlink", "unlinkat",
                "fsync", "pwrite64"):
        assert calls.get(bad, 0) == 0, calls


def test_group_commit_shares_syncs_between_senders():
    """8 senders on their own connections, each sending its next message
    as soon as its last is answered: one fdatasync covers several of
    them (the commit waits a few ms for sessions whose message is still
    arriving), still never a 250 before the sync, and every message is
    stored whole."""
    s = Server().start()
    deliver(s.port, _body(0))   # creates the segment
    senders, each = 8, 8
    sent = {}

    def sender(k):
        c = session(s.port)
        for i in range(each):
            b = _body(k * 100 + i, 1000)
            expect(c.cmd("MAIL FROM:<dev%d@ups.example>" % k), 250)
            expect(c.cmd("RCPT TO:<alice@mail.example.com>"), 250)
            expect(c.cmd("DATA"), 354)
            c.send(b + b".\r\n")
            sent[queued_seq(expect(c.reply(), 250))] = b
        c.cmd("QUIT")

    def send():
        threads = [threading.Thread(target=sender, args=(k,)) for k in range(senders)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    calls, answered = _traced(s, send)
    s.stop()
    n = senders * each
    assert answered == n and len(sent) == n, (answered, len(sent), calls)
    assert calls.get("pwritev", 0) == n, calls
    # Measured here: 8 syncs with the window; without it (syncs only
    # for messages finished in the same loop pass) 22 to 32.
    assert calls.get("fdatasync", 0) <= n // 4, calls
    assert "group-commit messages=" in s.log(), s.log()
    for q, b in sent.items():
        assert stored_body(s.cat(q))[2] == b

# SPDX-License-Identifier: ISC
"""The power-loss model: what kill -9 cannot show, because after kill -9
the page cache still reaches the disk.

1. Record: the real daemon runs under strace while concurrent clients
   deliver messages of random sizes; the trace gives, in order, every
   segment created, every write (where, how many bytes), every fdatasync/fsync and
   every "250 ... queued as N" written to a client.
2. Cut: for points along that stream, build the on-disk states a power
   cut could leave.  Everything synced before the cut is intact; the
   bytes written after the last sync are truncated at any byte, or the
   file keeps its size with a zero-filled tail (UBIFS "holes at the end
   of files"), or a garbage tail, or whole 4 KiB pages lost (written out
   of order); a segment whose directory entry was not yet synced may be
   missing altogether.
3. Recover: run the real binary on each state (`nomx -i`: it recovers
   the spool, then takes one new message over stdin) and check: every
   message answered 250 before the cut is there exactly once and whole;
   every message there is whole and is one a client sent; the new
   message gets a sequence number above every one answered before and
   is readable; `nomx spool fsck` finds nothing wrong.
"""
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import tempfile
import threading

from harness import (TMP, VALGRIND, Server, Skip, deliver, nomx_cmd, read_spool, sample,
                     split_received)

STATES = int(os.environ.get("POWERLOSS_STATES", "300"))
VARIANTS = ["truncated", "zero tail", "garbage tail", "lost pages", "names lost"]
PAGE = 4096


# ---- 1. record ----

def send_all(port, rnd, who, n, sent, lock):
    c = smtplib.SMTP("127.0.0.1", port, timeout=60)
    c.ehlo("ups%d.example" % who)
    for i in range(n):
        lines = rnd.choice([1, 40, 400, 1500, 3000])   # 60 B to 250 KiB: segments rotate
        body = (b"Subject: power %d.%d\r\n\r\n" % (who, i) +
                b"".join(b"%d.%d.%d %s\r\n" % (who, i, k, b"p" * rnd.randrange(60))
                         for k in range(lines)))
        c.mail("ups%d@ups.example" % who)
        c.rcpt("alice@mail.example.com")
        code, msg = c.data(body)
        assert code == 250, (code, msg)
        with lock:
            sent[int(re.search(rb"queued as (\d+)", msg).group(1))] = (who, body)
    c.quit()


SYSCALL = re.compile(r"^\d+\s+(\w+)\((.*)\)\s+= (-?\d+)(?:<(.*)>)?")
FD_PATH = re.compile(r"^\d+<([^>]*)>")


def parse_trace(path, segdir):
    """[(kind, file, n)]: create, write (n: its end), sync, dirsync, ack (n = seq)."""
    events, ends = [], {}
    with open(path, errors="replace") as f:
        for line in f:
            m = SYSCALL.match(line)
            if not m:
                # A call split by another thread's (qemu-user's own mmaps
                # among them) is only a problem if it is one we model.
                assert not (("unfinished" in line or "resumed" in line) and
                            (segdir in line or "socket:" in line)), line
                continue
            call, args, ret, ret_path = m.group(1), m.group(2), int(m.group(3)), m.group(4)
            fdm = FD_PATH.match(args)
            fd_path = fdm.group(1) if fdm else ""
            if call == "openat" and ret_path and ret_path.startswith(segdir + "/"):
                if "O_CREAT" in args:
                    events.append(("create", ret_path, 0))
                    ends[ret_path] = 0
            elif call in ("write", "pwritev") and fd_path.startswith(segdir + "/"):
                # The header by write, at 0; records by pwritev, each
                # commit's first at a fresh 4 KiB block (a hole before it).
                at = int(args.rsplit(",", 1)[1]) if call == "pwritev" else ends[fd_path]
                ends[fd_path] = at + ret
                events.append(("write", fd_path, at + ret))
            elif call in ("fdatasync", "fsync") and fd_path.startswith(segdir + "/"):
                assert ret == 0, line
                events.append(("sync", fd_path, 0))
            elif call == "fsync" and fd_path == segdir:
                events.append(("dirsync", segdir, 0))
            elif call == "write" and fd_path.startswith("socket:"):
                for seq in re.findall(r"250 2\.0\.0 [^\\]*queued as (\d+)", args):
                    events.append(("ack", "", int(seq)))
            elif call in ("ftruncate", "unlinkat", "renameat", "pwrite64", "writev", "mmap") \
                    and segdir in line:
                # In-place writes and mapped files are not modelled: a
                # trace with them cannot be reasoned about as appends.
                raise AssertionError("the model assumes append-only segments: " + line)
    return events


def record(rnd, clients=8, each=8):
    s = Server()
    trace = os.path.join(s.dir, "trace")
    s.wrap = ["strace", "-f", "-qq", "-y", "-s", "120", "-o", trace, "-e",
              "trace=openat,write,writev,pwrite64,pwritev,mmap,fdatasync,fsync,ftruncate,unlinkat,"
              "renameat"]
    s.start()
    sent, lock = {}, threading.Lock()
    threads = [threading.Thread(target=send_all, args=(s.port, random.Random(rnd.random()), w,
                                                       each, sent, lock)) for w in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # SIGTERM to nomx itself (strace would only detach); strace then
    # exits with nomx's status.
    with open("/proc/%d/task/%d/children" % (s.proc.pid, s.proc.pid)) as f:
        os.kill(int(f.read().split()[0]), signal.SIGTERM)
    assert s.proc.wait(30) == 0, s.log()
    assert len(sent) == clients * each, len(sent)
    segdir = os.path.join(os.path.realpath(s.spool), "seg")
    events = parse_trace(trace, segdir)
    final = {}
    for name in os.listdir(segdir):
        with open(os.path.join(segdir, name), "rb") as f:
            final[os.path.join(segdir, name)] = f.read()
    return s, events, final, sent


# ---- 2. cut ----

def replay(events, upto):
    """Sizes written, sizes synced, files whose entry is durable, and the
    seqs answered 250, after events[:upto]."""
    written, synced, named, acked, pending = {}, {}, set(), set(), set()
    for kind, path, n in events[:upto]:
        if kind == "create":
            written[path] = synced[path] = 0
            pending.add(path)
        elif kind == "write":
            assert n > written[path], ("not an append", path, n, written[path])
            written[path] = n
        elif kind == "sync":
            synced[path] = written[path]
        elif kind == "dirsync":
            named |= pending
            pending.clear()
        elif kind == "ack":
            acked.add(n)
    return written, synced, named, acked


def cut_state(rnd, variant, final, written, synced, named):
    """{file: bytes} as a power cut could leave it."""
    state = {}
    for path, w in written.items():
        data = bytearray(final[path][:w])
        d = synced[path]
        if path not in named and variant == "names lost":
            continue        # created, but the directory was not synced yet
        if w > d:
            k = rnd.randint(d, w)
            if variant == "truncated":
                del data[k:]
            elif variant == "zero tail":
                data[k:] = bytes(w - k)
            elif variant == "garbage tail":
                data[k:] = rnd.randbytes(w - k)
            elif variant == "lost pages":
                for page in range(d // PAGE * PAGE, w, PAGE):
                    if rnd.random() < 0.5:
                        lo, hi = max(page, d), min(page + PAGE, w)
                        data[lo:hi] = bytes(hi - lo)
        state[path] = bytes(data)
    return state


# ---- 3. recover and check ----

def inetd_deliver(spool, body):
    """Recover the spool with `nomx -i` and deliver body; the 250's seq."""
    p = subprocess.Popen(nomx_cmd("-i", "-s", spool), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def reply():
        while True:
            line = p.stdout.readline().decode()
            assert line, "nomx -i closed: " + p.stderr.read().decode()
            if line[3:4] != "-":
                return line

    def cmd(data):
        p.stdin.write(data)
        p.stdin.flush()
        return reply()

    try:
        assert reply().startswith("220 ")
        for c in (b"EHLO after.example\r\n", b"MAIL FROM:<after@ups.example>\r\n",
                  b"RCPT TO:<alice@mail.example.com>\r\n"):
            assert cmd(c).startswith("250"), c
        assert cmd(b"DATA\r\n").startswith("354")
        line = cmd(body + b".\r\n")
        assert line.startswith("250 "), line
        assert cmd(b"QUIT\r\n").startswith("221")
        assert p.wait(30) == 0
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        p.stdout.close()
        p.stdin.close()
        p.stderr.close()
    return int(re.search(r"queued as (\d+)", line).group(1))


def envelope(who):
    """The envelope nomx must have stored for a client of send_all (who)
    or for inetd_deliver (None)."""
    helo, sender, client = (("after.example", "after@ups.example", "unknown") if who is None else
                            ("ups%d.example" % who, "ups%d@ups.example" % who, "127.0.0.1"))
    return [("F", sender), ("T", "alice@mail.example.com"), ("M", "alice"), ("C", client),
            ("H", helo)]


def check_state(spool, acked, sent, envelopes=True):
    """Recover, deliver one more, and compare every record, envelope
    (unless told not to) and bytes, with what its client sent (kept by
    the test)."""
    new_body = b"Subject: after the cut\r\n\r\nback on mains\r\n"
    new_seq = inetd_deliver(spool, new_body)
    assert new_seq > max(acked, default=0), ("sequence number reused", new_seq, max(acked))
    seen = {}
    for seq, env, body in read_spool(spool):
        assert seq not in seen, ("twice", seq)
        who, want = (None, new_body) if seq == new_seq else sent.get(seq, (None, None))
        assert want is not None, ("a message nobody sent", seq)
        if envelopes or seq == new_seq:
            assert env == envelope(who), ("envelope", seq, env)
        received, rest = split_received(body)
        assert b" with ESMTP id %d\r\n" % seq in received, ("Received:", seq, received)
        assert rest == want, ("not whole", seq)
        seen[seq] = True
    lost = sorted(acked - set(seen))
    assert not lost, ("answered 250, lost", lost)
    assert new_seq in seen, ("the new message", new_seq)
    assert new_seq == max(seen), ("not the newest", new_seq, max(seen))
    r = subprocess.run(nomx_cmd("-s", spool, "spool", "fsck"), capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return len(seen) - 1 - len(acked)


def spool_id(s):
    with open(os.path.join(s.spool, "ID"), "rb") as f:
        return f.read()


def make_state(rnd, events, upto, variant, final, ident):
    """A spool folder holding what a cut after events[:upto] leaves; and
    the seqs answered 250 before it."""
    written, synced, named, acked = replay(events, upto)
    state = cut_state(rnd, variant, final, written, synced, named)
    spool = tempfile.mkdtemp(prefix="nomx-cut-", dir=TMP)
    os.mkdir(os.path.join(spool, "seg"))
    with open(os.path.join(spool, "ID"), "wb") as f:
        f.write(ident)
    for path, data in state.items():
        with open(os.path.join(spool, "seg", os.path.basename(path)), "wb") as f:
            f.write(data)
    return spool, acked


def check_cut(rnd, events, upto, variant, final, sent, ident, name):
    """Build the state a cut after events[:upto] leaves, recover it and
    check it; the number of unanswered messages kept."""
    spool, acked = make_state(rnd, events, upto, variant, final, ident)
    try:
        extra = check_state(spool, acked, sent)
    except AssertionError as e:
        raise AssertionError("%s (%s, cut after event %d of %d: %s): %s; kept in %s" % (
            name, variant, upto, len(events), events[upto - 1] if upto else "-", e, spool))
    shutil.rmtree(spool)
    return extra


def test_power_cuts_at_every_sync_and_every_250():
    """Not left to chance: a short recorded run is cut just before and
    just after every fdatasync and every 250 written, so the path where
    a 250 would go out before its sync is always tried."""
    if not shutil.which("strace"):
        raise Skip("strace not installed")
    rnd = random.Random(7)
    s, events, final, sent = record(rnd, clients=3, each=4)
    ident = spool_id(s)
    points = sorted({i + d for i, e in enumerate(events) if e[0] in ("sync", "ack")
                     for d in (0, 1)})
    for upto in sample(points, 12):
        for variant in ("truncated", "zero tail"):
            check_cut(rnd, events, upto, variant, final, sent, ident, "deterministic cut")
    assert sum(1 for e in events if e[0] == "sync") >= 2, events


def test_power_cuts_inside_recovery():
    """Recovery writes too: it cuts a torn tail (ftruncate, then
    fdatasync) and removes a segment that never got its header (unlink,
    then the folder's fsync).  The daemon is stopped right after each of
    those, before its sync (NOMX_CRASH), and a power cut there may keep
    either side: the state before (checked by the other tests) or the
    one on disk now, which must recover like any other."""
    if not shutil.which("strace"):
        raise Skip("strace not installed")
    rnd = random.Random(9)
    s, events, final, sent = record(rnd, clients=3, each=4)
    ident = spool_id(s)
    hits = dict.fromkeys(("recover-cut", "recover-unlinked"), 0)
    most = 2 if VALGRIND else 4
    for upto in range(1, len(events) + 1):
        for variant, point in (("garbage tail", "recover-cut"), ("zero tail", "recover-cut"),
                               ("truncated", "recover-unlinked")):
            if hits[point] >= most:
                continue
            spool, acked = make_state(rnd, events, upto, variant, final, ident)
            r = subprocess.run(nomx_cmd("-i", "-s", spool), stdin=subprocess.DEVNULL,
                               capture_output=True, env=dict(os.environ, NOMX_CRASH=point + ":1"))
            if r.returncode != 99:
                shutil.rmtree(spool)        # nothing for this point to cut here
                continue
            hits[point] += 1
            try:
                check_state(spool, acked, sent)
            except AssertionError as e:
                raise AssertionError("cut inside recovery at %s (%s, after event %d): %s; kept in %s"
                                     % (point, variant, upto, e, spool))
            shutil.rmtree(spool)
    assert all(hits.values()), hits


def test_power_cut_inside_spool_ack():
    """`nomx spool ack` writes the new ACK slot in place (pwrite), then
    syncs it, and only then removes segments.  Stopped between the write
    and the sync, a power cut may leave that slot old, new, zeroed, full
    of garbage or torn at any byte: the ACK read after it is the old one
    or the new one, and no message is gone (nothing was removed)."""
    with Server() as s:
        seqs = [deliver(s.port, b"Subject: ack %d\r\n\r\n" % i + b"a" * 3000 + b"\r\n")
                for i in range(6)]
        sent = {seq: b"Subject: ack %d\r\n\r\n" % i + b"a" * 3000 + b"\r\n"
                for i, seq in enumerate(seqs)}
    tool = nomx_cmd("-s", s.spool, "spool")
    token = subprocess.run(tool + ["export"], capture_output=True, text=True,
                           check=True).stdout.split("sess=")[1].split()[0]
    subprocess.run(tool + ["ack", str(seqs[1]), token], check=True, capture_output=True)
    ack_path = os.path.join(s.spool, "ACK")
    with open(ack_path, "rb") as f:
        old = f.read()
    r = subprocess.run(tool + ["ack", str(seqs[3]), token], capture_output=True,
                       env=dict(os.environ, NOMX_CRASH="ack-pwritten:1"))
    assert r.returncode == 99, r
    with open(ack_path, "rb") as f:
        new = f.read()
    changed = [i for i in range(len(old)) if old[i] != new[i]]
    assert changed, "the ACK file did not change"
    slot = 32 * (changed[0] // 32)
    assert changed[-1] < slot + 32, changed          # one slot written, in place
    rnd = random.Random(3)
    variants = {"old": old, "new": new,
                "zeros": new[:slot] + bytes(32) + new[slot + 32:],
                "garbage": new[:slot] + rnd.randbytes(32) + new[slot + 32:]}
    for k in sample(range(1, 32), 5):
        variants["torn at %d" % k] = new[:slot + k] + old[slot + k:]
    for name, data in variants.items():
        spool = tempfile.mkdtemp(prefix="nomx-ackcut-", dir=TMP)
        shutil.copytree(s.spool, spool, dirs_exist_ok=True)
        with open(os.path.join(spool, "ACK"), "wb") as f:
            f.write(data)
        st = subprocess.run(nomx_cmd("-s", spool, "spool", "status"), capture_output=True,
                            text=True)
        assert st.returncode == 0, (name, st.stdout + st.stderr)
        acked = int(re.search(r"^acked\s+(\d+)", st.stdout, re.M).group(1))
        assert acked == {"old": seqs[1], "new": seqs[3]}.get(name, acked) and \
            acked in (seqs[1], seqs[3]), (name, acked)
        try:
            check_state(spool, set(seqs), dict((q, (None, b)) for q, b in sent.items()),
                        envelopes=False)
        except AssertionError as e:
            raise AssertionError("ACK slot %s after a cut inside spool ack: %s" % (name, e))
        shutil.rmtree(spool)


def test_power_cut_states_recover_with_nothing_answered_lost():
    if not shutil.which("strace"):
        raise Skip("strace not installed")
    seed = int(os.environ.get("POWERLOSS_SEED", "0")) or random.randrange(1, 1 << 30)
    rnd = random.Random(seed)
    s, events, final, sent = record(rnd)
    acks = sum(1 for e in events if e[0] == "ack")
    syncs = sum(1 for e in events if e[0] == "sync")
    assert acks == len(sent), (acks, len(sent))
    # The replay of the whole trace must give the files as they are.
    written = replay(events, len(events))[0]
    assert written == {p: len(b) for p, b in final.items()}, "trace and files disagree"
    # Cut after any write, sync or 250 (most interesting: just before a sync).
    points = [i + 1 for i, e in enumerate(events) if e[0] in ("write", "sync", "ack", "create")]
    counts = dict.fromkeys(VARIANTS, 0)
    extra = 0
    ident = spool_id(s)
    for k in range(STATES):
        upto = rnd.choice(points)
        variant = VARIANTS[k % len(VARIANTS)]
        extra += check_cut(rnd, events, upto, variant, final, sent, ident,
                           "POWERLOSS_SEED=%d state %d" % (seed, k))
        counts[variant] += 1
    print("# power-loss model (POWERLOSS_SEED=%d): %d messages, %d segments, %d appends, %d syncs recorded; "
          "%d cut states (%s); %d unanswered but whole messages kept (a client may resend them)"
          % (seed, len(sent), len(final), sum(1 for e in events if e[0] == "write"), syncs, STATES,
             ", ".join("%d %s" % (n, v) for v, n in counts.items()), extra))


def test_export_makes_what_it_shows_durable():
    """A collector must never see a record that a power cut could then
    take back: its sequence number would be handed to other mail, and
    the collector, having seen that number, would skip it.  So export
    syncs the active segment before reading it."""
    if not shutil.which("strace"):
        raise Skip("strace not installed")
    with Server() as s:
        with smtplib.SMTP("127.0.0.1", s.port) as c:
            for i in range(3):
                c.sendmail("ups@ups.example", ["alice@mail.example.com"],
                           b"Subject: %d\r\n\r\nseen by the collector\r\n" % i)
        trace = os.path.join(s.dir, "export-trace")
        subprocess.run(["strace", "-f", "-qq", "-y", "-o", trace, "-e", "trace=fdatasync,pread64"]
                       + nomx_cmd("-s", s.spool, "spool", "export"),
                       check=True, capture_output=True)
    seg = sorted(os.listdir(os.path.join(s.spool, "seg")))[-1]
    with open(trace) as f:
        calls = [m.group(1) for m in map(SYSCALL.match, f) if m and seg in m.group(0)]
    assert calls and calls[0] == "fdatasync" and "pread64" in calls, calls

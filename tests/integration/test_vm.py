# SPDX-License-Identifier: ISC
"""nomx on the emulated router (board/vm, tests/integration/vm.py): the
release mipsel binary on Debian's MIPS Malta kernel, started as root by
board/busybox/S50nomx, its spool on UBIFS or JFFS2 over a simulated NAND
chip.  Mail comes in from the host through qemu's port forwarding and
goes out through `nomx fetch --serial` on the router's second UART.

The power-cut tests are the ones the spool exists for.  On UBIFS, UBI's
own power-cut emulation stops every write of the chip at a random moment
while four clients send; on JFFS2, a recording of the chip's operations
is replayed onto a fresh chip up to a random one, torn.  Then the flash
is mounted again as after a reboot, and what the real binary gives back
must be every message it answered 250 to, once and whole, and nothing a
client did not send."""
import base64
import os
import random
import re
import signal
import smtplib
import ssl
import subprocess
import threading
import time

import harness
import vm

RCPT = "postmaster@mail.example.com"
REMOTE = "nomx -s /var/spool/nomx"
CUTS = int(os.environ.get("VM_CUTS", "20"))
TORN_CUTS = int(os.environ.get("VM_TORN_CUTS", "6"))


def message(token, size, attachment=False):
    """A message a client sends, with its token in a header and the body:
    text, or base64 as an attachment is (as hard to compress)."""
    if attachment:
        raw = base64.b64encode(random.Random(token).randbytes(size * 3 // 4 + 57)).decode()
        body = "".join(raw[i:i + 76] + "\r\n" for i in range(0, size * 76 // 78, 76))
    else:
        line = ("%s " % token) * 8
        body = (line + "\r\n") * max(1, size // (len(line) + 2))
    return ("From: <ups@example.net>\r\nTo: <%s>\r\nSubject: %s\r\nX-Token: %s\r\n\r\n%s"
            % (RCPT, token, token, body))


def send(port, msg, mode="plain", host="127.0.0.1", source=None):
    """One message; the 250's text ("... queued as N") or an exception.
    From the host's loopback through qemu's forwarding, or (host, source)
    a device's own address on the router's LAN (vm.Router's tap)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if mode == "smtps":
        c = smtplib.SMTP_SSL(host, port, timeout=60, context=ctx, source_address=source)
    else:
        c = smtplib.SMTP(host, port, timeout=60, source_address=source)
    try:
        c.ehlo("sender.example")
        if mode == "starttls":
            c.starttls(context=ctx)
            c.ehlo("sender.example")
        return deliver(c, msg)
    finally:
        hang_up(c)


def deliver(c, msg):
    """One message on an open session; the 250's text or an exception."""
    code, text = c.mail("ups@example.net")
    assert code == 250, (code, text)
    code, text = c.rcpt(RCPT)
    assert code == 250, (code, text)
    code, text = c.data(msg.encode())
    if code != 250:
        raise smtplib.SMTPDataError(code, text)
    return text.decode()


def hang_up(c):
    """QUIT, or just close if the session is past that; None."""
    if c is not None:
        try:
            c.quit()
        except (smtplib.SMTPException, OSError):
            c.close()


def tls12_suite_taken(port, suite):
    """Whether nomx completes a TLS 1.2 handshake offered only suite."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(suite)
    try:
        with smtplib.SMTP_SSL("127.0.0.1", port, timeout=60, context=ctx) as c:
            assert c.sock.cipher()[0] == suite, c.sock.cipher()
            c.noop()
        return True
    except ssl.SSLError:
        return False


def fetch(pty, md, state, timeout=300):
    return subprocess.run(harness.nomx_cmd("fetch", "--serial", pty, "--baud", "115200",
                                           "--remote", REMOTE, "--maildir", md, "--state", state),
                          capture_output=True, text=True, timeout=timeout)


def fetched(md):
    """{token: [message text, ...]} of every file fetch delivered."""
    out = {}
    box = os.path.join(md, "postmaster", "new")
    for name in sorted(os.listdir(box)) if os.path.isdir(box) else []:
        with open(os.path.join(box, name), "rb") as f:
            text = f.read().decode("utf-8", "replace")
        m = re.search(r"^X-Token: (\S+)", text, re.M)
        assert m, "a stored message no client sent:\n" + text[:500]
        out.setdefault(m.group(1), []).append(text)
    return out


def check_fetched(md, sent, acked):
    """Every acknowledged message fetched exactly once and whole; every
    fetched message one a client sent, at most once."""
    got = fetched(md)
    for token, copies in got.items():
        assert token in sent, "fetched a message no client sent: %s" % token
        assert len(copies) == 1, "%s fetched %d times" % (token, len(copies))
        want = sent[token].replace("\r\n", "\n")
        assert copies[0].replace("\r\n", "\n").endswith(want), "%s is not whole" % token
    lost = [t for t in acked if t not in got]
    assert not lost, "%d messages answered 250 are gone: %s" % (len(lost), lost[:5])
    return got


def restart_nomx(r):
    r.sh("/etc/init.d/S50nomx start")
    r.sh("i=0; until netstat -ltn | grep -q ':25 '; do i=$((i+1)); [ $i -lt 300 ] || exit 1; "
         "sleep 0.1; done")


def test_router_boots_nomx_from_its_init_script():
    """The router as it ships: S50nomx starts nomx as root, nomx drops to
    its user, chroots into the spool on UBIFS, enters its sandbox, and
    takes mail over plain SMTP, STARTTLS and SMTPS, one after another."""
    vm.need_vm()
    print("# " + vm.versions().replace("\n", "\n# "))
    t0 = time.time()
    with vm.Router() as r:
        print("# nomx ready %.1f s after qemu started" % (time.time() - t0))
        _, mounts = r.sh("grep ' /var/spool ' /proc/mounts")
        assert mounts.startswith("ubi0:spool /var/spool ubifs "), mounts
        _, who = r.sh("p=$(pidof nomx); stat -c %U /proc/$p; readlink /proc/$p/root")
        assert who.split() == ["nomx", "/var/spool/nomx"], who
        # The sandbox on a real MIPS kernel (qemu-user cannot show it).
        _, st = r.sh("grep -E '^(Seccomp|NoNewPrivs):' /proc/$(pidof nomx)/status")
        assert st.split() == ["NoNewPrivs:", "1", "Seccomp:", "2"], st
        sizes = [0, 1000, 64 * 1024, 1024 * 1024 - 4096]
        for i, (mode, size) in enumerate((m, s) for m in ("plain", "starttls", "smtps")
                                         for s in sizes):
            port = r.tls_port if mode == "smtps" else r.port
            reply = send(port, message("boot-%d" % i, size), mode)
            assert "queued as" in reply, reply
        _, ls = r.sh("nomx -s /var/spool/nomx spool ls")
        assert len(ls.strip().splitlines()) == 3 * len(sizes), ls
        r.sh("nomx -s /var/spool/nomx spool fsck")
        # The router build's suites are board/router.h's, not the
        # host's: AES-256-GCM only where it turns SHA-384 on.
        router_h = open(os.path.join(vm.HERE, "..", "..", "board", "router.h")).read()
        sha384 = re.search(r"^#define NOMX_TLS_SHA384 1", router_h, re.M) is not None
        for suite, offered in (("ECDHE-ECDSA-CHACHA20-POLY1305", True),
                               ("ECDHE-ECDSA-AES128-GCM-SHA256", True),
                               ("ECDHE-ECDSA-AES256-GCM-SHA384", sha384)):
            assert tls12_suite_taken(r.tls_port, suite) == offered, suite


def test_fetch_over_the_routers_uart():
    """`nomx fetch --serial` on the router's second UART, a BusyBox shell
    that the kernel also prints onto: every message once, acknowledged;
    killed half way and run again, still exactly once."""
    vm.need_vm()
    with vm.Router(uart2="pty") as r:
        sent = {}
        for i, size in enumerate([0, 100, 2000, 10000, 20000] * 4):
            token = "uart-%d" % i
            sent[token] = message(token, size)
            send(r.port, sent[token])
        # Kernel messages on the UART all through the transfer, as often
        # as a busy router prints them: the kernel writes them into the
        # middle of whatever line the shell is sending, and fetch must
        # re-fetch what they spoil.
        r.sh("(while :; do echo '<3>nomx-vm: kernel noise on the console' > /dev/kmsg; "
             "sleep 1.5; done) & echo $! > /tmp/noise")
        md = os.path.join(r.dir, "Maildir")
        state = os.path.join(r.dir, "fetch.state")
        p = subprocess.Popen(harness.nomx_cmd("fetch", "--serial", r.uart2_pty, "--baud", "115200",
                                              "--remote", REMOTE, "--maildir", md,
                                              "--state", state),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while len(fetched(md)) < 3 and p.poll() is None and time.time() < deadline:
            time.sleep(0.02)
        p.send_signal(signal.SIGKILL)
        p.wait()
        half = len(fetched(md))
        assert 0 < half < len(sent), "fetch was not stopped half way (%d of %d)" % (half, len(sent))
        res = fetch(r.uart2_pty, md, state)
        assert res.returncode == 0, res.stderr
        got = check_fetched(md, sent, sent)
        assert len(got) == len(sent)
        _, noise = r.sh("dmesg | grep -c 'kernel noise'; kill $(cat /tmp/noise)")
        noise = noise.split()[0]
        assert int(noise) >= 2, noise
        _, status = r.sh("nomx -s /var/spool/nomx spool status")
        assert re.search(r"^messages +%d stored, 0 not acknowledged" % len(sent), status, re.M) and \
            re.search(r"^acked +%d$" % len(sent), status, re.M), status
        print("# %d messages over the UART, %d before the kill, kernel noise lines %s"
              % (len(sent), half, noise.strip()))


class Senders:
    """Clients sending until stopped; which messages got their 250.
    Each message on a connection of its own, or (`keep`) each client's
    on one connection until a message fails; `pause` seconds after each
    message."""

    def __init__(self, port, tag, n=4, sizes=(0, 200, 1500, 5000, 20000), pause=0.0, keep=False):
        self.port, self.tag, self.sizes, self.pause, self.keep = port, tag, sizes, pause, keep
        self.sent, self.seq_of = {}, {}     # token: message; token: seq of its 250
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, i):
        rnd = random.Random("%s-%d" % (self.tag, i))
        n, c = 0, None
        while not self.stop.is_set():
            token = "%s-%d-%d" % (self.tag, i, n)
            n += 1
            msg = message(token, rnd.choice(self.sizes))
            with self.lock:
                self.sent[token] = msg
            try:
                if not self.keep:
                    reply = send(self.port, msg)
                else:
                    if c is None:
                        c = smtplib.SMTP("127.0.0.1", self.port, timeout=60)
                        c.ehlo("sender.example")
                    reply = deliver(c, msg)
            except (smtplib.SMTPException, OSError, AssertionError):
                c = hang_up(c)
                time.sleep(0.05)
                continue
            with self.lock:
                self.seq_of[token] = harness.queued_seq(reply)
            self.stop.wait(self.pause)
        hang_up(c)

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(90)


def stored_seqs(r):
    """The sequence numbers `spool ls` lists, sent back as ranges: the
    console is a 115200-baud UART."""
    _, ls = r.sh("nomx -s /var/spool/nomx spool ls | awk 'NR == 1 || $1 != p + 1 { if (s) printf \"%s-%s \", s, p; "
                 "s = $1 } { p = $1 } END { if (s) printf \"%s-%s\", s, p }'")
    seqs = []
    for span in ls.split():
        a, b = span.split("-")
        seqs.extend(range(int(a), int(b) + 1))
    return seqs


class Flash:
    """What one router's flash has been through: every message sent,
    which got a 250 (and its seq), which the collector has fetched."""

    def __init__(self):
        self.sent, self.acked, self.seq_of, self.delivered = {}, set(), {}, set()
        self.top_seq = 0


def _qemu_crashed(r):
    """qemu itself died of a signal.  Its user-mode network (libslirp)
    segfaults now and then under this connection churn: twice in about
    170 cuts, by the host's kernel log, both in libslirp.so.0."""
    rc = r.proc.poll()
    return rc is not None and rc < 0


def on_fresh_routers(router, run, where, most=3):
    """run(router()), with the UART as a pty.  If qemu itself crashes
    (_qemu_crashed), run again on a fresh router with a fresh flash, at
    most `most` times: the crashed one's messages were checked as listed
    after each of its cuts, not fetched at the end.  What to add to the
    summary line: where each crash came."""
    crashes = []
    while True:
        with router(uart2="pty") as r:
            try:
                run(r)
                return "; qemu crashed at " + ", ".join(crashes) if crashes else ""
            except Exception:  # noqa: BLE001 (whatever a dead qemu breaks first)
                if not _qemu_crashed(r) or len(crashes) >= most:
                    raise
                crashes.append("%s (qemu status %d)" % (where(), r.proc.poll()))
                print("# qemu crashed at %s; a fresh router takes the rest" % where())


def arm_ubi_cut(r, rnd):
    """UBI's cut, at the second or third eraseblock it maps from now; a
    file written beside the spool makes one come whether or not nomx's
    own syncs reach one first."""
    n = rnd.randint(1, 2)
    r.sh("flash cut %d %d" % (n, n))
    r.sh("dd if=/dev/urandom of=/var/spool/filler bs=1k count=400 conv=fsync 2>/dev/null",
         check=False)
    return "emulating a power cut", "at the %d. eraseblock mapped" % (n + 1)


def arm_torn_cut(r, commit):
    """UBIFS's own cut (flash torn), which picks its moment itself, at a
    random one of its flash operations; a file written and synced over
    and over beside the spool brings it within seconds (its writes stop
    once the cut has come; random bytes, which UBIFS cannot compress).
    With `commit`, a `sync` after each write makes UBIFS commit its
    journal over and over, and the cut comes in its index, log, master
    or LPT; without, wherever UBIFS is writing at the time, the journal
    that holds nomx's records among them."""
    r.sh("flash torn; [ -f /tmp/random ] || "
         "dd if=/dev/urandom of=/tmp/random bs=1k count=64 2>/dev/null")
    r.sh("(while dd if=/tmp/random of=/var/spool/filler conv=fsync 2>/dev/null%s; "
         "do :; done) > /dev/null 2>&1 &" % (" && sync" if commit else ""))
    return "Power cut emulated", "torn"


def one_cut(r, f, cut, n, rnd, torn):
    """Senders, a power cut at a random moment, the reboot, the checks;
    cut `cut` of `n`.  `torn`: UBIFS's torn writes (arm_torn_cut), in
    its commit on every other cut; otherwise UBI's cut.  UBIFS takes
    seconds to choose its moment, so the senders keep their connections
    and pause between messages then: qemu's user-mode network crashes
    now and then under connection churn (_qemu_crashed)."""
    s = Senders(r.port, "c%d" % cut, sizes=(0, 100, 300, 1000), pause=0.2 if torn else 0.0,
                keep=torn)
    try:
        time.sleep(rnd.uniform(0.2, 3.0))
        came, how = arm_torn_cut(r, cut % 2 == 1) if torn else arm_ubi_cut(r, rnd)
        deadline, rc = time.time() + 120, 1
        while time.time() < deadline:
            rc, _ = r.sh("dmesg | grep -q '%s'" % came, check=False)
            if rc == 0:
                break
            time.sleep(0.5)
    finally:
        s.finish()
    assert rc == 0, "no power cut within 120 s"
    if how == "torn":
        # Where UBIFS cut, as it told the kernel log.
        _, where = r.sh("dmesg | grep -o 'failing in .*' | tail -1", check=False)
        how = "torn, " + (where.strip() or "failing where it chose")
    f.sent.update(s.sent)
    f.acked |= set(s.seq_of)
    assert all(q > f.top_seq for q in s.seq_of.values()), "a sequence number was used again"
    f.top_seq = max(list(s.seq_of.values()) + [f.top_seq])
    f.seq_of.update(s.seq_of)
    # The reboot: the chip keeps what it had; UBI and UBIFS come back.
    r.sh("killall -9 nomx dd; sleep 0.3; flash unmount && dmesg -c >/dev/null && flash mount && "
         "rm -f /var/spool/filler", timeout=120)
    # A cut may leave the tail of a record nomx never answered for: the
    # daemon cuts it when it starts, and only then must fsck find nothing.
    restart_nomx(r)
    r.sh("nomx -s /var/spool/nomx spool fsck")
    seqs = stored_seqs(r)
    assert len(seqs) == len(set(seqs)), "a sequence number listed twice"
    lost = {f.seq_of[t] for t in f.acked - f.delivered} - set(seqs)
    if lost:
        # What the flash holds now, for whoever reads the failure.
        _, seen = r.sh("ls -l /var/spool/nomx/seg; nomx -s /var/spool/nomx spool fsck; "
                       "grep -E 'recover|segment|spool|fail' /var/log/messages | tail -25", check=False)
        raise AssertionError("cut %d: answered 250, gone: %s\n%s" % (cut, sorted(lost)[:10], seen))
    # Now and then, and at the end, the collector fetches: every message
    # answered 250 so far arrives once and whole.
    if cut % 10 == 9 or cut == n - 1:
        md = os.path.join(r.dir, "Maildir")
        res = fetch(r.uart2_pty, md, os.path.join(r.dir, "fetch.state"), timeout=900)
        assert res.returncode == 0, "cut %d: fetch failed: %s" % (cut, res.stderr)
        f.delivered = set(check_fetched(md, f.sent, f.acked))
    print("# cut %d %s: %d answered 250, %d listed, %d fetched, %d sent"
          % (cut, how, len(s.seq_of), len(seqs), len(f.delivered), len(f.sent)))


def ubifs_cuts(n, torn):
    """n power cuts under four senders, each at a random point (one_cut).
    Then nomx is killed, UBI detached and attached again and UBIFS
    mounted (it recovers), and S50nomx starts nomx (which cuts the torn
    tail a cut can leave).  After every cut, through the real binary:
    `spool fsck` clean, every message answered 250 and not yet fetched
    listed once, and new ones get higher sequence numbers.  Every tenth
    cut and at the end, fetch over the UART gives every message answered
    250 so far exactly once and whole, and nothing no client sent
    (fetching keeps the spool, and the check, small enough for hundreds
    of cuts).  If qemu itself crashes (_qemu_crashed), a fresh router
    with a fresh flash takes the remaining cuts, at most 3 times a run,
    or once in 20 cuts in longer runs."""
    vm.need_vm()
    rnd = random.Random(int(os.environ.get("VM_SEED", "11")))
    t0, done = time.time(), {"cut": 0, "acked": 0, "sent": 0}

    def run(r):
        f = Flash()
        while done["cut"] < n:
            one_cut(r, f, done["cut"], n, rnd, torn)
            done["cut"] += 1
        seq = harness.queued_seq(send(r.port, message("after-the-cuts", 100)))
        assert seq > f.top_seq, (seq, f.top_seq)
        done["acked"], done["sent"] = len(f.acked), len(f.sent)
    crashes = on_fresh_routers(vm.Router, run, lambda: "cut %d" % done["cut"], max(3, n // 20))
    print("# %d cuts in %.0f s: %d answered 250 on the last router, all fetched once and whole; "
          "%d sent%s" % (n, time.time() - t0, done["acked"], done["sent"], crashes))


def test_power_cuts_on_ubifs():
    """CUTS (VM_CUTS, 20 by default) of UBI's power cuts (ubifs_cuts):
    UBI stops the chip's writes at the second or third eraseblock it
    maps once armed, as when the power goes; a file written beside the
    spool makes that come soon."""
    ubifs_cuts(CUTS, torn=False)


def test_torn_writes_on_ubifs():
    """TORN_CUTS (VM_TORN_CUTS, 6 by default) of UBIFS's own power cuts
    (ubifs_cuts), which UBI's do not make: one of its writes torn, its
    start written and the rest of that page 0xFF or random bytes, and
    nothing written after it; in UBIFS's commit on every other cut."""
    ubifs_cuts(TORN_CUTS, torn=True)


class Timeline:
    """What the flash a JFFS2 replay carries on with has been through:
    the messages answered 250 on it and not yet fetched (by seq), every
    message any client sent, those it answered, those fetched."""

    def __init__(self):
        self.due, self.sent, self.acked, self.delivered = set(), {}, set(), set()
        self.top_seq = 0


def record(r, t, rnd, n):
    """Senders on the router while the chip's operations are recorded;
    after each batch of 250s the test writes their seqs to the kernel's
    log (`nomx-acked`), between the chip's program lines, so that every
    message marked before the Kth program had all its pages within the
    first K; n numbers the recording.  (the k a cut can be replayed
    after, programs, erases, [(programs before the marker, seqs)], the
    senders)"""
    r.sh("sync; sleep 1; flash record start")
    s = Senders(r.port, "j%d" % n, sizes=(0, 100, 300, 1000))
    marked, end = set(), time.time() + rnd.uniform(1.0, 4.0)

    def mark():
        with s.lock:
            new = sorted(q for tok, q in s.seq_of.items() if tok not in marked)
            marked.update(s.seq_of)
        for i in range(0, len(new), 100):
            r.sh("echo 'nomx-acked %s' > /dev/kmsg" % " ".join(map(str, new[i:i + 100])))
    try:
        while time.time() < end:
            mark()
            time.sleep(0.2)
    finally:
        s.finish()
    mark()
    r.sh("killall -9 nomx")
    _, out = r.sh("flash record stop")
    m = re.search(r"^cuts ([\d ]+)\nprograms (\d+) erases (\d+)$", out, re.M)
    assert m, out
    t.sent.update(s.sent)
    marks = [(int(line.split()[1]), [int(q) for q in line.split()[2:]])
             for line in out.splitlines() if line.startswith("m ")]
    cuts, programs, erases = [int(k) for k in m.group(1).split()], int(m.group(2)), int(m.group(3))
    print("# recording %d: %d programs, %d erases, %d of the %d points to cut at exact, %d "
          "answered 250" % (n, programs, erases, len(cuts), programs + 1, len(s.seq_of)))
    return cuts, programs, erases, marks, s


def replayed_cut(r, t, cut, k, torn, programs, marks):
    """The chip as after its kth program with the next one torn, mounted
    as after a reboot, nomx started by S50nomx: the checks of one cut."""
    r.sh("flash replay %d %d" % (k, torn))
    restart_nomx(r)
    r.sh("nomx -s /var/spool/nomx spool fsck")
    seqs = stored_seqs(r)
    assert len(seqs) == len(set(seqs)), "a sequence number listed twice"
    answered = {q for n, qs in marks if n <= k for q in qs}
    lost = (t.due | answered) - set(seqs)
    if lost:
        _, seen = r.sh("ls -l /var/spool/nomx/seg; nomx -s /var/spool/nomx spool fsck; "
                       "grep -E 'recover|segment|spool|fail' /var/log/messages | tail -25", check=False)
        raise AssertionError("cut %d (after %d of %d programs, the next torn at byte %d): answered "
                             "250, gone: %s\n%s" % (cut, k, programs, torn, sorted(lost)[:10], seen))
    token = "after-cut-%d" % cut
    t.sent[token] = message(token, 100)
    seq = harness.queued_seq(send(r.port, t.sent[token]))
    assert seq > max(answered | {t.top_seq}), "sequence number %d used again" % seq
    print("# cut %d after %d of %d programs (the next torn at byte %d): %d answered 250 by "
          "then, %d listed" % (cut, k, programs, torn, len(answered), len(seqs)))
    return answered, token, seq


def test_power_cuts_on_jffs2():
    """CUTS power cuts (VM_CUTS) on JFFS2, by record and replay: nandsim
    logs every page program while four clients send; the chip's pages
    are saved at the start and at the end (board/vm/mtdraw.c).  A cut
    after the kth program is a fresh chip with the start image, the
    first k programs (and the erases among them) replayed, each page as
    it ended, and the next program torn at a random byte, at the k where
    that is exact (board/vm/flash says which); half the cuts come right
    after a marker.  JFFS2 mounts it, S50nomx starts nomx, and every
    message whose 250 was marked in the kernel's log before the (k+1)th
    program must be listed once, `spool fsck` clean, new mail a higher
    sequence number.  Five cuts replay each recording; the last one's flash goes
    on to the next recording, so cuts come on a flash that has been cut
    before.  Every tenth cut and at the end the collector fetches over
    the UART and gets every message answered 250 on that flash exactly
    once and whole, and nothing no client sent."""
    vm.need_vm()
    rnd = random.Random(int(os.environ.get("VM_SEED", "11")))
    t0, done = time.time(), {"cut": 0, "erased": 0, "recordings": 0}

    def run(r):
        t = Timeline()
        while done["cut"] < CUTS:
            done["recordings"] += 1
            cuts, programs, erases, marks, s = record(r, t, rnd, done["recordings"])
            at_marks = [n for n, _ in marks if n in cuts]
            done["erased"] += erases
            for _ in range(min(5, CUTS - done["cut"])):
                # Half the cuts right after a batch of 250s was marked:
                # where a spool that answered before its data reached
                # the chip would lose it.
                k = rnd.choice(at_marks) if at_marks and rnd.random() < 0.5 else rnd.choice(cuts)
                answered, token, seq = replayed_cut(r, t, done["cut"], k, rnd.randint(1, 2111),
                                                    programs, marks)
                done["cut"] += 1
            # The last cut's flash carries on, with what was answered on it.
            tok_of = {q: tok for tok, q in s.seq_of.items()}
            t.due |= answered | {seq}
            t.acked |= {tok_of[q] for q in answered} | {token}
            t.top_seq = seq
            if done["cut"] % 10 == 0 or done["cut"] == CUTS:
                md = os.path.join(r.dir, "Maildir")
                res = fetch(r.uart2_pty, md, os.path.join(r.dir, "fetch.state"), timeout=900)
                assert res.returncode == 0, "cut %d: fetch failed: %s" % (done["cut"], res.stderr)
                t.delivered = set(check_fetched(md, t.sent, t.acked))
                t.due = set()
        done["t"] = t
    crashes = on_fresh_routers(lambda **kw: vm.Router(fs="jffs2", append="nomx.flash=8", **kw),
                               run, lambda: "cut %d" % done["cut"])
    t = done["t"]
    print("# %d cuts in %.0f s, %d recordings (%d eraseblocks erased in them): %d answered 250 on "
          "the last router's flash, all fetched once and whole; %d sent there%s"
          % (CUTS, time.time() - t0, done["recordings"], done["erased"], len(t.acked), len(t.sent),
             crashes))

def fill(r):
    """64 KiB messages until nomx says 452; (seqs answered 250, the 452)."""
    seqs = []
    for i in range(400):
        try:
            seqs.append(harness.queued_seq(send(r.port, message("fill-%d" % i, 64 * 1024, True))))
        except smtplib.SMTPDataError as e:
            return seqs, e
        except smtplib.SMTPRecipientsRefused as e:
            return seqs, e
    raise AssertionError("400 messages of 64 KiB and no 452")


def test_a_full_flash_says_452_and_loses_nothing():
    """Filled until nomx refuses: on UBIFS (128 MiB) its quota stops it,
    on JFFS2 on a 2 MiB chip (smaller than the quota) the free space the
    filesystem reports, less nomx's reserve.  Either way: 452 4.3.1, every
    message answered 250 still listed, `spool fsck` clean, and the daemon
    still answers."""
    vm.need_vm()
    for fs, flash in (("ubifs", ""), ("jffs2", "nomx.flash=4")):
        with vm.Router(fs=fs, append=flash) as r:
            seqs, refusal = fill(r)
            assert "452" in str(refusal) and "4.3.1" in str(refusal), refusal
            assert seqs, "refused the first message"
            assert set(seqs) <= set(stored_seqs(r)), "a message answered 250 is gone"
            r.sh("nomx -s /var/spool/nomx spool fsck")
            _, status = r.sh("nomx -s /var/spool/nomx spool status; df /var/spool")
            send(r.port, message("small-after-full", 0))
            print("# %s: %d messages of 64 KiB, then %s" % (fs, len(seqs), str(refusal)[:60]))
            print("# " + status.strip().replace("\n", "\n# "))

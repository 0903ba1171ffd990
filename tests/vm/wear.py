# SPDX-License-Identifier: ISC
"""make vm-wear: what storing mail costs the flash chip, per message.

On the emulated router (tests/integration/vm.py), for UBIFS and JFFS2 on
the simulated NAND, 1 KiB and 64 KiB messages, 1 and 8 concurrent
senders: the pages the chip is asked to program (2 KiB each) and the
eraseblocks it is asked to erase, counted by nandsim itself (`flash
wear`), while nomx takes N messages over SMTP (base64 bodies, as
attachments are: text would flatter both, UBIFS and JFFS2 compress),
and then while maildir-writer (tests/vm/maildir_writer.c) stores the same number
of the same size as Maildir files with the durability nomx gives before
its 250.  Both end with a `sync`, so writes the filesystem put off are
counted too.  The last line is the cell the README quotes.

WEAR_CELL="ubifs 1KiB c8" measures that cell alone (make vm-wear
CELL=...), WEAR_RUNS=N each cell N times on the same router (RUNS=N):
how many messages share a sync depends on how the senders' arrivals
overlap, so one run of a c8 cell says little.  nomx's spool is kept
from run to run: its 4 MiB quota holds one pass of the whole table,
or about fourteen runs of a 1 KiB cell, before senders get 452.

The senders are devices on the router's LAN, each with its own address
(lan()), as a site's are.  Through qemu's port forwarding every
connection would come from the one address 10.0.2.2, and nomx takes 4
at once from one address: 8 senders would be 4 and their retries."""
import os
import shutil
import smtplib
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("TEST_TMP", "/tmp")

import test_vm  # noqa: E402
import vm  # noqa: E402

CELLS = [(1024, 1, 192), (1024, 8, 192), (65536, 1, 24), (65536, 8, 24)]
TAP, ROUTER, NET = "nomxlan0", "10.0.3.2", "10.0.3.%d/24"
DEVICES = ["10.0.3.%d" % (11 + i) for i in range(8)]


def lan():
    """The router's LAN: a tap device in this process's own network
    namespace (main() runs itself again under `unshare --net`), with an
    address for each device.  False where that cannot be made (not
    root): the senders then come through qemu's forwarding."""
    if os.environ.get("NOMX_WEAR_NETNS") != "1":
        return False
    for cmd in (["link", "set", "lo", "up"], ["tuntap", "add", "dev", TAP, "mode", "tap"],
                ["addr", "add", NET % 1, "dev", TAP], ["link", "set", TAP, "up"]):
        subprocess.run(["ip"] + cmd, check=True)
    for a in DEVICES:
        subprocess.run(["ip", "addr", "add", a + "/24", "dev", TAP], check=True)
    return True


def wear(r):
    _, out = r.sh("sync; flash wear")
    pages, erased = out.split("wear: ")[1].split(" pages")[0], out.split(", ")[-1].split()[0]
    return int(pages) * 2048, int(erased)


def nomx_run(r, size, conc, n, on_lan):
    r.sh("flash wear on")
    errors = []

    def sender(i):
        where = dict(port=25, host=ROUTER, source=(DEVICES[i], 0)) if on_lan else dict(port=r.port)
        for k in range(i, n, conc):
            # Through qemu's forwarding nomx takes 4 at once (one
            # address): the others are told 421 and try again, as a
            # device would.
            for _ in range(200):
                try:
                    test_vm.send(msg=test_vm.message("w-%d-%d" % (size, k), size, True), **where)
                    break
                except smtplib.SMTPConnectError as e:
                    if e.smtp_code != 421:
                        errors.append(e)
                        return
                    time.sleep(0.05)
                except Exception as e:  # noqa: BLE001 (reported below)
                    errors.append(e)
                    return
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        # What the router was doing: its processes and nomx's last words.
        print(r.sh("ps; logread | tail -30; dmesg | tail -10", check=False, timeout=120)[1])
        raise SystemExit("wear: sending failed: %r" % errors[0])
    return wear(r)


def maildir_run(r, size, conc, n):
    r.sh("rm -rf /var/spool/Maildir; sync; flash wear on")
    # The same message size as nomx stores (headers and all).
    r.sh("maildir-writer /var/spool/Maildir %d %d %d" % (n, len(test_vm.message("w", size, True)), conc),
         timeout=300)
    return wear(r)


def main():
    vm.VM_DIR = os.environ.get("VM") or sys.exit("wear: VM= the image folder (make vm-wear)")
    if "NOMX_WEAR_NETNS" not in os.environ and os.geteuid() == 0 and shutil.which("unshare"):
        os.environ["NOMX_WEAR_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "--net", "--", sys.executable] + sys.argv)
    on_lan = lan()
    print("wear: %s" % vm.versions().replace("\n", "; "))
    print("wear: senders %s" % ("on the router's LAN, each from its own address" if on_lan else
                                "through qemu's forwarding, from one address (not root: no LAN)"))
    print("%-6s %-6s %-3s %5s | %12s %9s | %12s %9s | %s" % (
        "fs", "size", "c", "msgs", "nomx B/msg", "erases", "Maildir B/msg", "erases", "ratio"))
    only, runs = os.environ.get("WEAR_CELL", "").split(), int(os.environ.get("WEAR_RUNS") or 1)
    cells = [(fs, size, conc, n) for fs in ("jffs2", "ubifs") for size, conc, n in CELLS
             if not only or only == [fs, "%dKiB" % (size // 1024), "c%d" % conc]]
    if not cells:
        sys.exit("wear: no cell %r (e.g. WEAR_CELL=\"ubifs 1KiB c8\")" % " ".join(only))
    last = None
    for fs in sorted({c[0] for c in cells}):
        with vm.Router(fs=fs, tap=TAP if on_lan else "", lan=ROUTER + "/24" if on_lan else "") as r:
            for _, size, conc, n in [c for c in cells if c[0] == fs] * runs:
                nb, ne = nomx_run(r, size, conc, n, on_lan)
                mb, me = maildir_run(r, size, conc, n)
                label = "%dKiB" % (size // 1024)
                print("%-6s %-6s c%-2d %5d | %12.0f %9d | %12.0f %9d | %.1fx" % (
                    fs, label, conc, n, nb / n, ne, mb / n, me, mb / nb if nb else 0), flush=True)
                if (fs, size, conc) == ("ubifs", 1024, 8):
                    last = "wear: ubifs 1KiB c8 nomx %.0f B/msg, maildir %.0f B/msg" % (nb / n, mb / n)
    if last:
        print(last)


if __name__ == "__main__":
    main()

# SPDX-License-Identifier: ISC
"""make vm-wear: what storing mail costs the flash chip, per message.

On the emulated router (tests/integration/vm.py), for UBIFS and JFFS2 on
the simulated NAND, 1 KiB and 64 KiB messages, 1 and 8 concurrent
senders (at most 4 at once: see nomx_run): the pages the chip is asked to program (2 KiB each) and the
eraseblocks it is asked to erase, counted by nandsim itself (`flash
wear`), while nomx takes N messages over SMTP from the host (base64
bodies, as attachments are: text would flatter both, UBIFS and JFFS2
compress), and then
while maildir-writer (tests/vm/maildir_writer.c) stores the same number
of the same size as Maildir files with the durability nomx gives before
its 250.  Both end with a `sync`, so writes the filesystem put off are
counted too.  The last line is the cell the README quotes."""
import os
import smtplib
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
os.environ.setdefault("TEST_TMP", "/tmp")

import test_vm  # noqa: E402
import vm  # noqa: E402

CELLS = [(1024, 1, 64), (1024, 8, 64), (65536, 1, 24), (65536, 8, 24)]


def wear(r):
    _, out = r.sh("sync; flash wear")
    pages, erased = out.split("wear: ")[1].split(" pages")[0], out.split(", ")[-1].split()[0]
    return int(pages) * 2048, int(erased)


def nomx_run(r, size, conc, n):
    r.sh("flash wear on")
    errors = []

    def sender(i):
        for k in range(i, n, conc):
            # Every host connection reaches the router from qemu's
            # 10.0.2.2, and nomx takes 4 at once from one address: the
            # others are told 421 and try again, as a device would.
            for _ in range(200):
                try:
                    test_vm.send(r.port, test_vm.message("w-%d-%d" % (size, k), size, True))
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
    print("wear: %s" % vm.versions().replace("\n", "; "))
    print("%-6s %-6s %-3s %5s | %12s %9s | %12s %9s | %s" % (
        "fs", "size", "c", "msgs", "nomx B/msg", "erases", "Maildir B/msg", "erases", "ratio"))
    last = None
    for fs in ("jffs2", "ubifs"):
        with vm.Router(fs=fs) as r:
            for size, conc, n in CELLS:
                nb, ne = nomx_run(r, size, conc, n)
                mb, me = maildir_run(r, size, conc, n)
                label = "%dKiB" % (size // 1024)
                print("%-6s %-6s c%-2d %5d | %12.0f %9d | %12.0f %9d | %.1fx" % (
                    fs, label, conc, n, nb / n, ne, mb / n, me, mb / nb if nb else 0), flush=True)
                if (fs, size, conc) == ("ubifs", 1024, 8):
                    last = "wear: ubifs 1KiB c8 nomx %.0f B/msg, maildir %.0f B/msg" % (nb / n, mb / n)
    print(last)


if __name__ == "__main__":
    main()

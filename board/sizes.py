#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""`make sizes`: for every board built, the stripped binary and `size`
(text/data/bss) with and without TLS, and what each part of the TLS
build costs in flash, from the linker map (sections kept after
--gc-sections, summed per input file: nomx's own objects by name,
BearSSL and musl as wholes)."""
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def board_tool(board, tool):
    mk = open(os.path.join(TOP, "board", board, "board.mk")).read()
    m = re.search(r"^TRIPLE\s*=\s*(\S+)", mk, re.M)
    return "%s-%s" % (m.group(1), tool) if m else tool


def measure(board, path):
    if not os.path.exists(path):
        return None
    tmp = path + ".stripped"
    subprocess.run([board_tool(board, "strip"), "-o", tmp, path], check=True)
    stripped = os.path.getsize(tmp)
    out = subprocess.run([board_tool(board, "size"), path], capture_output=True, text=True,
                         check=True).stdout.splitlines()[1].split()
    return stripped, int(out[0]), int(out[1]), int(out[2])


def parts(mapfile):
    """Bytes of .text/.rodata/.data kept, per input file."""
    cost = {}
    started = False
    pending = None
    for line in open(mapfile, errors="replace"):
        if line.startswith("Linker script and memory map"):
            started = True
            continue
        if not started:
            continue
        m = re.match(r"^ (\.(?:text|rodata|data|sdata|srodata)[^\s]*)\s*$", line)
        if m:
            pending = m.group(1)
            continue
        m = re.match(r"^ (\.(?:text|rodata|data|sdata|srodata)[^\s]*)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+)",
                     line)
        if m and (m.group(1) or pending):
            size, src = int(m.group(2), 16), m.group(3)
            if "libbearssl.a" in src:
                key = "BearSSL"
            elif "libc.a" in src or "/musl" in src or "crt" in os.path.basename(src):
                key = "musl libc"
            elif src.endswith(".o"):
                key = os.path.basename(src)[:-2]
            else:
                key = "other"
            cost[key] = cost.get(key, 0) + size
        pending = None
    return cost


def readme_table(rows):
    """The README's record of flash and static RAM per board: replaced
    between its sizes markers, so it is always the table printed here."""
    md = ["| board | stripped, TLS | stripped, no TLS | text | data | bss |",
          "|---|---|---|---|---|---|"]
    for b, tls, notls in rows:
        md.append("| %s | %s B | %s | %s | %s | %s |" % (
            b, format(tls[0], ","), format(notls[0], ",") + " B" if notls else "-",
            format(tls[1], ","), format(tls[2], ","), format(tls[3], ",")))
    readme = os.path.join(TOP, "README.md")
    text = open(readme).read()
    a, z = "<!-- sizes:start -->\n", "<!-- sizes:end -->"
    if a in text and z in text:
        text = text[:text.index(a) + len(a)] + "\n".join(md) + "\n" + text[text.index(z):]
        with open(readme, "w") as f:
            f.write(text)
        print("\nREADME.md size table updated")


def main(boards):
    rows = []
    print("%-8s %12s %12s %9s %7s %9s" % ("board", "TLS stripped", "no TLS", "text", "data",
                                          "bss"))
    for b in boards:
        tls = measure(b, os.path.join(TOP, "build", b, "nomx"))
        notls = measure(b, os.path.join(TOP, "build", b + "-notls", "nomx"))
        if not tls:
            print("%-8s (not built: its cross compiler is missing; make BOARD=%s)" % (b, b))
            continue
        rows.append((b, tls, notls))
        print("%-8s %12d %12s %9d %7d %9d" % (b, tls[0], notls[0] if notls else "-", tls[1],
                                              tls[2], tls[3]))
    if len(rows) == len(boards):
        readme_table(rows)
    else:
        print("\nREADME.md size table left alone: not every board was built")
    for b in boards:
        # LTO merges the objects: each part's share is read from the
        # map of the same build without it.
        mapfile = os.path.join(TOP, "build", b + "-nolto", "nomx.map")
        if not os.path.exists(mapfile):
            continue
        cost = parts(mapfile)
        total = sum(cost.values())
        nolto = measure(b, os.path.join(TOP, "build", b + "-nolto", "nomx"))
        lto = measure(b, os.path.join(TOP, "build", b, "nomx"))
        print("\n%s, TLS build without LTO (%d bytes stripped; LTO takes %d off), flash by part "
              "(text+rodata+data kept by the linker):" % (b, nolto[0], nolto[0] - lto[0]))
        for k, v in sorted(cost.items(), key=lambda kv: -kv[1]):
            if v >= 512 or k in ("BearSSL", "musl libc"):
                print("  %-14s %7d  %4.1f%%" % (k, v, 100.0 * v / total))
        print("  %-14s %7d" % ("total", total))


if __name__ == "__main__":
    main(sys.argv[1:])

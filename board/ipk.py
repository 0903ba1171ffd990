#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Build an OpenWrt .ipk without the SDK: an ar archive of debian-binary,
control.tar.gz and data.tar.gz (what opkg installs), all members owned
by root, with fixed times so the same input gives the same bytes.

    ipk.py OUT.ipk ROOT VERSION ARCH
ROOT is a DESTDIR tree from `make install INIT=openwrt`."""
import gzip
import io
import os
import sys
import tarfile

MTIME = 1767225600  # 2026-01-01: reproducible archives

CONTROL = """Package: nomx
Version: {version}
Depends: libc
Source: nomx
License: ISC
Section: mail
Architecture: {arch}
Installed-Size: {size}
Description: Micro MTA: receive mail for this device, keep it on flash, hand it over.
 SMTP with STARTTLS and SMTPS for one hostname and one IPv4 literal, an
 append-only flash-friendly spool, `nomx fetch` over SSH or serial. Never relays.
"""

POSTINST = """#!/bin/sh
[ -n "$IPKG_INSTROOT" ] && exit 0
grep -q '^nomx:' /etc/group || echo 'nomx:x:465:' >> /etc/group
grep -q '^nomx:' /etc/passwd || echo 'nomx:x:465:465:nomx:/var/run/nomx:/bin/false' >> /etc/passwd
/etc/init.d/nomx enable
/etc/init.d/nomx start
exit 0
"""

PRERM = """#!/bin/sh
[ -n "$IPKG_INSTROOT" ] && exit 0
/etc/init.d/nomx stop
/etc/init.d/nomx disable
exit 0
"""

CONFFILES = "/etc/nomx/key.pem\n/etc/nomx/cert.pem\n"


def info(name, size, mode, kind=tarfile.REGTYPE):
    t = tarfile.TarInfo(name)
    t.size, t.mode, t.type, t.mtime = size, mode, kind, MTIME
    t.uid = t.gid = 0
    t.uname = t.gname = "root"
    return t


def targz(add):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        add(tar)
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=MTIME) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def data_tar(root):
    def add(tar):
        tar.addfile(info("./", 0, 0o755, tarfile.DIRTYPE))
        for d, dirs, files in sorted(os.walk(root)):
            dirs.sort()
            rel = os.path.relpath(d, root)
            for name in dirs:
                tar.addfile(info("./" + os.path.normpath(os.path.join(rel, name)) + "/", 0,
                                 0o755, tarfile.DIRTYPE))
            for name in sorted(files):
                path = os.path.join(d, name)
                with open(path, "rb") as f:
                    body = f.read()
                mode = os.stat(path).st_mode & 0o777
                tar.addfile(info("./" + os.path.normpath(os.path.join(rel, name)), len(body),
                                 mode), io.BytesIO(body))
    return targz(add)


def control_tar(version, arch, size):
    files = [("control", CONTROL.format(version=version, arch=arch, size=size), 0o644),
             ("postinst", POSTINST, 0o755), ("prerm", PRERM, 0o755),
             ("conffiles", CONFFILES, 0o644)]

    def add(tar):
        tar.addfile(info("./", 0, 0o755, tarfile.DIRTYPE))
        for name, text, mode in files:
            body = text.encode()
            tar.addfile(info("./" + name, len(body), mode), io.BytesIO(body))
    return targz(add)


def ar(members):
    out = b"!<arch>\n"
    for name, body in members:
        out += ("%-16s%-12d%-6d%-6d%-8o%-10d`\n" % (name + "/", MTIME, 0, 0, 0o100644,
                                                    len(body))).encode()
        out += body + (b"\n" if len(body) % 2 else b"")
    return out


def main(out, root, version, arch):
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(root) for f in fs)
    members = [("debian-binary", b"2.0\n"), ("control.tar.gz", control_tar(version, arch, size)),
               ("data.tar.gz", data_tar(root))]
    with open(out, "wb") as f:
        f.write(ar(members))
    print("%s: %d bytes (%s, %s)" % (out, os.path.getsize(out), version, arch))


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/bin/sh
# initramfs.sh DEBS OUT NOMX TOOLS...: the emulated router's initramfs
# at OUT (gzip'd newc cpio), from the unpacked Debian packages in DEBS
# (board/vm/fetch-debs.sh), the static mipsel nomx, and further static
# mipsel tools for /usr/bin.
#
# Only the kernel modules the router loads go in, with what they depend
# on: with all of them the archive does not unpack in 256 MB of RAM.
# /init is the archive's first entry (the kernel may refuse it, -26, if
# it comes later).
set -eu
debs=$1 out=$2 nomx=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
modules="pcnet32 nandsim ubi ubifs jffs2 zstd deflate crc32c_generic"

kver=$(ls "$debs/root/lib/modules")
root=$out.root
rm -rf "$root"
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc/init.d" \
	"$root/etc/nomx" "$root/lib/modules/$kver" "$root/root" "$root/var/spool"

cp "$here/init" "$root/init"
cp "$debs/root/bin/busybox" "$root/bin/busybox"
cp "$here/flash" "$root/sbin/flash"
cp "$nomx" "$root/usr/sbin/nomx"
for t in "$@"; do cp "$t" "$root/usr/bin/"; done
cp "$top/board/busybox/S50nomx" "$root/etc/init.d/S50nomx"
printf 'root:x:0:0:root:/root:/bin/sh\nnomx:x:100:100:nomx:/var/spool/nomx:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnomx:x:100:\n' > "$root/etc/group"

# The modules and their dependencies, then a module index for them.
[ -f "$debs/root/lib/modules/$kver/modules.dep" ] || depmod -b "$debs/root" "$kver"
for m in $modules; do
	modprobe -d "$debs/root" -S "$kver" --show-depends "$m"
done | sed -n 's/^insmod \([^ ]*\).*/\1/p' | sort -u | while read -r ko; do
	rel=${ko#"$debs/root/lib/modules/$kver/"}
	mkdir -p "$root/lib/modules/$kver/$(dirname "$rel")"
	cp "$ko" "$root/lib/modules/$kver/$rel"
done
cp "$debs/root/lib/modules/$kver"/modules.builtin* "$debs/root/lib/modules/$kver/modules.order" \
	"$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

(cd "$root" && { echo init; find . ! -path . ! -path ./init | sed 's|^\./||' | sort; } |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9 > "$out.part"
mv "$out.part" "$out"
rm -rf "$root"

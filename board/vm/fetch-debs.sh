#!/bin/sh
# Fetch the emulated router's pieces from Debian into $1 and unpack them:
# the MIPS Malta kernel with its modules, and BusyBox.
#
# Nothing here is pinned to an exact version.  Debian replaces its kernel
# packages with every security update and the mirror drops the old ones,
# so the kernel is resolved through its meta-package (linux-image-4kc-
# malta) at build time; BusyBox takes the same path.  apt-get download
# checks each archive against the hashes of Debian's signed index, and
# $1/versions records what was used (the tests print it).
set -eu
out=$1
arch=mipsel
if ! dpkg --print-foreign-architectures | grep -qx $arch; then
	[ "$(id -u)" = 0 ] || { echo "nomx: run: sudo dpkg --add-architecture $arch && sudo apt-get update" >&2; exit 1; }
	echo "nomx: adding the Debian architecture $arch (for the emulated router's kernel and BusyBox)" >&2
	dpkg --add-architecture $arch
	apt-get update -qq >&2
fi

# The kernel package the meta-package depends on today.
kernel=$(apt-cache depends "linux-image-4kc-malta:$arch" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-4kc-malta\).*/\1/p' | head -1)
kernel=${kernel%:"$arch"}
if [ -z "$kernel" ]; then
	apt-get update -qq >&2 || true
	kernel=$(apt-cache depends "linux-image-4kc-malta:$arch" |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-4kc-malta\).*/\1/p' | head -1)
	kernel=${kernel%:"$arch"}
fi
[ -n "$kernel" ] || { echo "nomx: apt knows no linux-image-4kc-malta:$arch" >&2; exit 1; }

rm -rf "$out.part" && mkdir -p "$out.part/deb" "$out.part/root"
# apt's sandbox user must be able to write where it downloads.
chmod 777 "$out.part/deb"
(cd "$out.part/deb" && apt-get download -q "$kernel:$arch" "busybox-static:$arch" >&2)
: > "$out.part/versions"
for d in "$out.part"/deb/*.deb; do
	dpkg-deb -x "$d" "$out.part/root"
	printf '%s %s sha256:%s\n' "$(dpkg-deb -f "$d" Package)" "$(dpkg-deb -f "$d" Version)" \
		"$(sha256sum "$d" | cut -d' ' -f1)" >> "$out.part/versions"
done
rm -rf "$out.part/deb"
rm -rf "$out" && mv "$out.part" "$out"
sed 's/^/nomx: vm: /' "$out/versions" >&2

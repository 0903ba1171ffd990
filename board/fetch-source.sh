#!/bin/sh
# Put a pinned upstream source tarball at DEST and check its SHA-256:
#
#   board/fetch-source.sh PACKAGE DEBVER DEST SHA256 [LOCAL_TARBALL]
#
# Where it comes from, in order:
#   LOCAL_TARBALL                      a local copy (make BEARSSL_TARBALL=
#                                      or MUSL_TARBALL=, with its hash as
#                                      BEARSSL_SHA256= or MUSL_SHA256=)
#   apt-get source PACKAGE=DEBVER      Debian's copy of the upstream
#                                      tarball; needs a deb-src line,
#                                      which this script adds on Debian
#                                      bookworm when root.
set -eu
pkg=$1
debver=$2
dest=$3
want=$4
local_tarball=${5:-}
var=$(echo "$pkg" | tr 'a-z' 'A-Z')
dir=$(dirname "$dest")
mkdir -p "$dir"

if [ -n "$local_tarball" ]; then
	cp "$local_tarball" "$dest.part"
else
	if ! apt-get source --print-uris "$pkg=$debver" >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ] && [ -d /etc/apt/sources.list.d ] && grep -qs bookworm /etc/os-release; then
			echo "nomx: adding a deb-src entry for Debian bookworm (for apt-get source $pkg)" >&2
			cat > /etc/apt/sources.list.d/nomx-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
			apt-get update -qq >&2
		fi
	fi
	if ! (cd "$dir" && apt-get source --download-only "$pkg=$debver" >/dev/null 2>&1); then
		cat >&2 <<MSG
nomx: cannot fetch $pkg's source with apt-get source.
  Either add a deb-src line for your Debian release (e.g. in
  /etc/apt/sources.list.d/deb-src.sources: "Types: deb-src", "URIs:
  http://deb.debian.org/debian", "Suites: bookworm", "Components: main")
  and run apt-get update, or point the build at a local tarball:
    make ${var}_TARBALL=/path/to/tarball ${var}_SHA256=<its sha256>
MSG
		exit 1
	fi
	mv "$dir/${pkg}_"*.orig.tar.[gx]z "$dest.part"
	rm -f "$dir/${pkg}_"*.dsc "$dir/${pkg}_"*.debian.tar.* "$dir/${pkg}_"*.orig.tar.*.asc
fi
got=$(sha256sum "$dest.part" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	rm -f "$dest.part"
	echo "nomx: $pkg tarball SHA-256 mismatch: got $got, pinned $want" >&2
	exit 1
fi
mv "$dest.part" "$dest"

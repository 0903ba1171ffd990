#!/bin/sh
# Put BearSSL's pinned source tarball at $1 and check its SHA-256.
#
# Where it comes from, in order:
#   BEARSSL_TARBALL=/path/to/tarball   a local copy (upstream's
#                                      bearssl-0.6.tar.gz works: pass its
#                                      hash as BEARSSL_SHA256=...)
#   apt-get source bearssl             Debian's copy of upstream 0.6;
#                                      needs a deb-src line, which this
#                                      script adds on Debian when root.
set -eu
dest=$1
want=$2
debver=$3
dir=$(dirname "$dest")
mkdir -p "$dir"

if [ -n "${BEARSSL_TARBALL:-}" ]; then
	cp "$BEARSSL_TARBALL" "$dest.part"
else
	if ! apt-get source --print-uris "bearssl=$debver" >/dev/null 2>&1; then
		if [ "$(id -u)" = 0 ] && [ -d /etc/apt/sources.list.d ] && grep -qs bookworm /etc/os-release; then
			echo "nomx: adding a deb-src entry for Debian bookworm (for apt-get source bearssl)" >&2
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
	if ! (cd "$dir" && apt-get source --download-only "bearssl=$debver" >/dev/null 2>&1); then
		cat >&2 <<MSG
nomx: cannot fetch BearSSL's source with apt-get source.
  Either add a deb-src line for your Debian release (e.g. in
  /etc/apt/sources.list.d/deb-src.sources: "Types: deb-src", "URIs:
  http://deb.debian.org/debian", "Suites: bookworm", "Components: main")
  and run apt-get update, or point the build at a local tarball:
    make BEARSSL_TARBALL=/path/to/bearssl-0.6.tar.gz BEARSSL_SHA256=<its sha256>
MSG
		exit 1
	fi
	mv "$dir"/bearssl_*.orig.tar.* "$dest.part"
	rm -f "$dir"/bearssl_*.dsc "$dir"/bearssl_*.debian.tar.*
fi
got=$(sha256sum "$dest.part" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
	rm -f "$dest.part"
	echo "nomx: BearSSL tarball SHA-256 mismatch: got $got, pinned $want" >&2
	exit 1
fi
mv "$dest.part" "$dest"

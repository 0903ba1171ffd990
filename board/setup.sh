#!/bin/sh
# Install what building (and, with "test", testing) nomx needs on a
# Debian machine.  As root it installs what is missing; otherwise it
# prints the exact commands and stops.  Packages only from Debian.  A
# package named pkg:arch (musl-dev:mipsel) first adds that Debian
# architecture (dpkg --add-architecture), as cross builds need.
#
#   board/setup.sh build PACKAGES...   compiler side (musl-tools, ...)
#   board/setup.sh test PACKAGES...    plus the real clients the tests drive
set -eu
mode=$1; shift
pkgs="$*"
[ "$mode" = test ] && pkgs="$pkgs python3 swaks libnet-ssleay-perl libio-socket-ssl-perl libio-socket-inet6-perl mosquitto mosquitto-clients dovecot-core dovecot-lmtpd dovecot-imapd curl openssl ca-certificates strace util-linux mount iproute2 sslscan openssh-client openssh-server postfix msmtp testssl.sh s-nail"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

archs=
for p in $missing; do
	case $p in
	*:*) a=${p#*:}
		dpkg --print-foreign-architectures | grep -qx "$a" || archs="$archs $a" ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "nomx: missing Debian packages:$missing" >&2
	for a in $archs; do
		echo "nomx: run:  sudo dpkg --add-architecture $a" >&2
	done
	[ -n "$archs" ] && echo "nomx: run:  sudo apt-get update" >&2
	echo "nomx: run:  sudo apt-get install -y$missing" >&2
	exit 1
fi
for a in $archs; do
	echo "nomx: adding the Debian architecture $a" >&2
	dpkg --add-architecture "$a"
done
echo "nomx: installing Debian packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The tests run private Postfix instances of their own (a relay into
# nomx); the system's Postfix stays unconfigured and never starts.
case " $missing " in
*" postfix "*) echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections ;;
esac
apt-get update -qq >&2 || true
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2

#!/bin/sh
# SPDX-License-Identifier: ISC
# The compiler for musl on a MIPS16e board: each file as MIPS16e where
# it compiles so, as MIPS32 where it does not.  musl's system calls,
# atomics and thread pointer are inline MIPS32 assembly (syscall, ll/sc,
# rdhwr), which MIPS16e cannot express; its .s files are MIPS32 too.
# Floating point stays MIPS32 as well: MIPS16e reaches the FPU only
# through stubs and libgcc helpers, and the stubs of musl's aliased
# math functions do not link.  Both halves call each other through
# -minterlink-mips16 (in CFLAGS).  The files kept as MIPS32 are listed
# in $MIPS32_LOG.
#
#   board/mips16-cc.sh REAL-CC ARGS...
cc=$1; shift
out= prev=
for a in "$@"; do
	[ "$prev" = -o ] && out=$a
	prev=$a
done
if "$cc" -mips16 "$@" 2>/dev/null; then
	case $out in
	*.o|*.lo)
		"${cc%gcc}nm" "$out" 2>/dev/null |
			grep -q -e __fn_stub_ -e __call_stub_ -e __fn_local_ -e __mips16_ || exit 0 ;;
	*)	exit 0 ;;
	esac
fi
if [ -n "${MIPS32_LOG:-}" ]; then
	for a in "$@"; do
		case $a in *.c) echo "$a" >> "$MIPS32_LOG" ;; esac
	done
fi
exec "$cc" "$@"

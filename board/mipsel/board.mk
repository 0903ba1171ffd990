# MIPS32r2 little-endian: MT7621 (the most common OpenWrt router SoC),
# MT7628/MT7688.  Soft-float code, as OpenWrt builds for these.
DEB_ARCH = mipsel
TRIPLE = mipsel-linux-gnu
# musl from its source (Makefile: "musl, from its pinned source"):
# Debian's is MIPS32, and MIPS16e where it compiles is smaller.
MUSL_FROM_SOURCE = 1
# MIPS16e, as OpenWrt builds its packages for these CPUs (24KEc, 1004Kc
# list "mips16" among their ASEs in /proc/cpuinfo): nomx and BearSSL
# about 13% smaller.  MIPS16=0 for a MIPS32r2 core without it (then
# `make BOARD=mipsel clean` first: the objects do not know the switch).
MIPS16 ?= 1
BOARD_CFLAGS = -march=mips32r2 -mno-branch-likely \
	$(if $(filter 1,$(MIPS16)),-mips16 -minterlink-mips16)
MUSL_CFLAGS = -Os -march=mips32r2 -mno-branch-likely $(if $(filter 1,$(MIPS16)),-minterlink-mips16)
MUSL_CC = $(if $(filter 1,$(MIPS16)),$(TOP)/board/mips16-cc.sh) $(TRIPLE)-gcc
RUNNER = qemu-mipsel-static
IPK_ARCH = mipsel_24kc
BOARD_INIT = openwrt
BOARD_CONFIG = board/router.h
include board/cross.mk

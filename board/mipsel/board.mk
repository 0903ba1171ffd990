# MIPS32r2 little-endian: MT7621 (the most common OpenWrt router SoC),
# MT7628/MT7688.  Soft-float code, as OpenWrt builds for these.
DEB_ARCH = mipsel
TRIPLE = mipsel-linux-gnu
MUSL_SPECS = /usr/lib/mipsel-linux-musl/musl-gcc.specs
BOARD_CFLAGS = -march=mips32r2 -mno-branch-likely
RUNNER = qemu-mipsel-static
IPK_ARCH = mipsel_24kc
BOARD_INIT = openwrt
include board/cross.mk

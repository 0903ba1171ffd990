# MIPS32r2 little-endian: MT7621 (the most common OpenWrt router SoC),
# MT7628/MT7688.  Debian's mipsel cross gcc with the musl specs of
# musl-dev:mipsel; soft-float code, as OpenWrt builds for these.
DEB_ARCH = mipsel
TRIPLE = mipsel-linux-gnu
MUSL_SPECS = /usr/lib/mipsel-linux-musl/musl-gcc.specs
CC = $(TRIPLE)-gcc -specs $(MUSL_SPECS)
AR = $(TRIPLE)-ar
STRIP = $(TRIPLE)-strip
SIZE = $(TRIPLE)-size
BOARD_CFLAGS = -march=mips32r2 -mno-branch-likely
RUNNER = qemu-mipsel-static
BOARD_PACKAGES = gcc-$(TRIPLE) binutils-$(TRIPLE) musl-dev:$(DEB_ARCH) qemu-user-static
IPK_ARCH = mipsel_24kc
BOARD_INIT = openwrt
# Segments aligned to 4 KiB pages, not 64 KiB: smaller files (these
# SoCs run 4 KiB-page kernels).
BOARD_LDFLAGS = -Wl,-z,max-page-size=4096

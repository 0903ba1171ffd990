# 64-bit ARM (ARMv8-A): MT7622, IPQ807x routers, Raspberry Pi 3/4/5.
# Debian's cross gcc with the musl specs of musl-dev:arm64.
DEB_ARCH = arm64
TRIPLE = aarch64-linux-gnu
MUSL_SPECS = /usr/lib/aarch64-linux-musl/musl-gcc.specs
CC = $(TRIPLE)-gcc -specs $(MUSL_SPECS)
AR = $(TRIPLE)-ar
STRIP = $(TRIPLE)-strip
SIZE = $(TRIPLE)-size
BOARD_CFLAGS = -march=armv8-a
RUNNER = qemu-aarch64-static
BOARD_PACKAGES = gcc-$(TRIPLE) binutils-$(TRIPLE) musl-dev:$(DEB_ARCH) qemu-user-static
# OpenWrt's package architecture for the .ipk.
IPK_ARCH = aarch64_cortex-a53
BOARD_INIT = systemd
# Segments aligned to 4 KiB pages, not 64 KiB: smaller files (these
# SoCs run 4 KiB-page kernels).
BOARD_LDFLAGS = -Wl,-z,max-page-size=4096

# 64-bit ARM (ARMv8-A): MT7622, IPQ807x routers, Raspberry Pi 3/4/5.
DEB_ARCH = arm64
TRIPLE = aarch64-linux-gnu
MUSL_SPECS = /usr/lib/aarch64-linux-musl/musl-gcc.specs
BOARD_CFLAGS = -march=armv8-a
RUNNER = qemu-aarch64-static
# OpenWrt's package architecture for the .ipk; the init files that fit.
IPK_ARCH = aarch64_cortex-a53
BOARD_INIT = systemd
include board/cross.mk

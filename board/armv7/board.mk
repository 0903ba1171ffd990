# 32-bit ARM, ARMv7-A hard-float: IPQ40xx, MT7623, i.MX6, Raspberry Pi 2.
# Debian's armhf (ARMv7-A, VFPv3-D16), in Thumb-2 for density.
DEB_ARCH = armhf
TRIPLE = arm-linux-gnueabihf
MUSL_SPECS = /usr/lib/arm-linux-musleabihf/musl-gcc.specs
BOARD_CFLAGS = -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb
RUNNER = qemu-arm-static
IPK_ARCH = arm_cortex-a7_neon-vfpv4
BOARD_INIT = openwrt
BOARD_CONFIG = board/router.h
include board/cross.mk

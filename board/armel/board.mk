# 32-bit ARM, ARMv5TE soft-float: Marvell Kirkwood (OpenWrt's kirkwood
# target: NAS boxes, Linksys EA3500/EA4500) and other ARM9-class SoCs.
# Debian's armel baseline, in Thumb for density.
DEB_ARCH = armel
TRIPLE = arm-linux-gnueabi
MUSL_SPECS = /usr/lib/arm-linux-musleabi/musl-gcc.specs
BOARD_CFLAGS = -march=armv5te -mfloat-abi=soft -mthumb
RUNNER = qemu-arm-static
IPK_ARCH = arm_xscale
BOARD_INIT = openwrt
BOARD_CONFIG = board/router.h
include board/cross.mk

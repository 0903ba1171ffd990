# 32-bit ARM, ARMv7-A hard-float: IPQ40xx, MT7623, i.MX6, Raspberry Pi 2.
# Debian's armhf cross gcc (ARMv7-A, VFPv3-D16, Thumb-2) with the musl
# specs of musl-dev:armhf.
DEB_ARCH = armhf
TRIPLE = arm-linux-gnueabihf
MUSL_SPECS = /usr/lib/arm-linux-musleabihf/musl-gcc.specs
CC = $(TRIPLE)-gcc -specs $(MUSL_SPECS)
AR = $(TRIPLE)-ar
STRIP = $(TRIPLE)-strip
SIZE = $(TRIPLE)-size
BOARD_CFLAGS = -march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard -mthumb
RUNNER = qemu-arm-static
BOARD_PACKAGES = gcc-$(TRIPLE) binutils-$(TRIPLE) musl-dev:$(DEB_ARCH) qemu-user-static
IPK_ARCH = arm_cortex-a7_neon-vfpv4
BOARD_INIT = openwrt
# Segments aligned to 4 KiB pages, not 64 KiB: smaller files (these
# SoCs run 4 KiB-page kernels).
BOARD_LDFLAGS = -Wl,-z,max-page-size=4096

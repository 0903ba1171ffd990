# Shared by the cross-compiled boards: Debian's cross gcc for TRIPLE with
# the musl specs file of musl-dev:DEB_ARCH (MUSL_SPECS), or of the musl
# the Makefile builds from source (MUSL_FROM_SOURCE = 1), binaries run
# under qemu-user for the tests.  Segments are aligned to 4 KiB pages,
# not 64 KiB: smaller files, and these SoCs run 4 KiB-page kernels.  No
# RELRO: in a static binary no loader makes anything read-only after
# relocating, and -z relro pads the file so that part ends on a page
# (armv7: 3,160 bytes).
ifeq ($(MUSL_FROM_SOURCE),1)
MUSL_SPECS = $(TOP)/build/$(BOARD)/musl/musl-gcc.specs
endif
CC = $(TRIPLE)-gcc -specs $(MUSL_SPECS)
AR = $(TRIPLE)-ar
GCC_AR = $(TRIPLE)-gcc-ar
STRIP = $(TRIPLE)-strip
SIZE = $(TRIPLE)-size
BOARD_LDFLAGS = -Wl,-z,max-page-size=4096 -Wl,-z,norelro
BOARD_PACKAGES = gcc-$(TRIPLE) binutils-$(TRIPLE) musl-dev:$(DEB_ARCH) qemu-user-static

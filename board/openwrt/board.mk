# Building inside the OpenWrt SDK or buildroot (board/openwrt/Makefile):
# the SDK's musl toolchain comes in CC/AR, its flags in BOARD_CFLAGS.
CC ?= cc
AR ?= ar
STRIP ?= strip
SIZE ?= size
BOARD_CFLAGS ?=
RUNNER =
BOARD_PACKAGES =
BOARD_CONFIG = board/router.h

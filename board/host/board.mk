# The build machine itself: x86_64 Debian, static against musl through
# Debian's musl-tools (musl-gcc wraps the system gcc with musl's specs).
CC = musl-gcc
AR = ar
BOARD_CFLAGS =
# Tests run the binaries directly.
RUNNER =
# Debian packages the build needs for this board.
BOARD_PACKAGES = musl-tools
BOARD_INIT = systemd
IPK_ARCH = x86_64

# nomx: build, run, test.
#
#   make                    static nomx for the host (build/host/nomx)
#   make BOARD=<name>       for a board (board/<name>/board.mk)
#   make run                dev config in the foreground on 127.0.0.1 and ::1, port 2525,
#                           SMTPS on 2465 (PORT=, TLSPORT=, SPOOL= override)
#   make test               every test; ends with "N passed, N failed"
#                           (SANITIZE=1: on ASan+UBSan builds;
#                           VALGRIND=1: under valgrind's memcheck)
#   make fuzz               libFuzzer targets (FUZZ_SECONDS=60 each)
#   make bench              nomx next to Postfix and smtp-sink (tests/bench/RESULTS.md)
#   make vm                 the emulated router: Debian's MIPS kernel, BusyBox,
#                           nomx on flash (README "Try it on an emulated router";
#                           make vm-wear, make vm-powercut FS=ubifs|ubifs-torn|jffs2 CUTS=N)
#   make sizes              flash and static RAM of every board, with and
#                           without TLS, and what each part costs
#   make install DESTDIR=   binary, man page, init files (INIT=systemd|openwrt|busybox)
#   make BOARD=mipsel ipk   an OpenWrt package
#   make lint               cppcheck
#   make clean              remove build/, everything the build made or fetched
#
# Set-up (Debian packages, the pinned sources of BearSSL and, for
# mipsel, musl) happens on demand; see board/setup.sh and
# board/fetch-source.sh.

BOARD ?= host
include board/$(BOARD)/board.mk
STRIP ?= strip
SIZE ?= size

TOP := $(abspath .)
BUILD := $(TOP)/build/$(BOARD)
# The test builds: dev (tests/dev-config.h) and legacy, plain or on
# the sanitizers or valgrind.  Folders, for the host board:
#   plain      build/host-dev       build/host-legacy
#   SANITIZE=1 build/host-asan      build/host-asan-legacy
#   VALGRIND=1 build/host-vg        build/host-vg-legacy
TESTKIND := $(if $(filter 1,$(SANITIZE)),asan,$(if $(filter 1,$(VALGRIND)),vg,dev))
DEVBUILD := $(TOP)/build/$(BOARD)-$(TESTKIND)
LEGACYBUILD := $(TOP)/build/$(BOARD)-$(if $(filter dev,$(TESTKIND)),,$(TESTKIND)-)legacy
SRCDIR := $(TOP)/build/src

# BearSSL 0.6, Debian's copy of the upstream tarball (dfsg repack of
# the same source).  Pinned by hash; override with BEARSSL_TARBALL= and
# BEARSSL_SHA256=, or BEARSSL_SRC= an unpacked tree.
BEARSSL_DEBVER := 0.6+dfsg.1-3
BEARSSL_SHA256 ?= 102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
BEARSSL_TGZ := $(SRCDIR)/bearssl-0.6.orig.tar.xz
BEARSSL_SRC ?= $(SRCDIR)/bearssl-0.6
BEARSSL_LIB := $(TOP)/build/$(BOARD)/bearssl/libbearssl.a

VERSION := 0.3.0
PORT ?= 2525
TLSPORT ?= 2465
SPOOL ?= $(DEVBUILD)/spool

CSTD := -std=c11 -D_GNU_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT := -Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
CFLAGS := $(CSTD) $(WARN) $(OPT) $(BOARD_CFLAGS) -I$(BEARSSL_SRC)/inc -DNOMX_VERSION='"$(VERSION)"' 
LDFLAGS := -static -Wl,--gc-sections $(BOARD_LDFLAGS)

SRCS := $(wildcard src/*.c)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
HDRS := $(wildcard src/*.h) config.h

.PHONY: all dev legacy run test unit fuzz fuzz-deps sizes bench install ipk lint clean deps board-deps test-deps \
	vm vm-image vm-powercut vm-wear FORCE
.DELETE_ON_ERROR:

all: $(BUILD)/nomx
dev: $(DEVBUILD)/nomx
legacy: $(LEGACYBUILD)/nomx

deps: board-deps $(if $(MUSL_FROM_SOURCE),$(MUSL_SPECS))

board-deps:
	@board/setup.sh build $(BOARD_PACKAGES)

test-deps:
	@board/setup.sh test $(BOARD_PACKAGES) $(if $(filter 1,$(VALGRIND)),valgrind) \
		$(if $(VM_TEST),qemu-system-mips kmod cpio)

# ---- BearSSL, from its pinned source, with this board's compiler ----

$(BEARSSL_TGZ):
	board/fetch-source.sh bearssl $(BEARSSL_DEBVER) $@ $(BEARSSL_SHA256) "$(BEARSSL_TARBALL)"

$(SRCDIR)/bearssl-0.6/inc/bearssl.h: | $(BEARSSL_TGZ)
	tar -C $(SRCDIR) -xf $(BEARSSL_TGZ)
	touch $@

BEARSSL_CFLAGS := -std=c99 -Os -ffunction-sections -fdata-sections $(BOARD_CFLAGS) -w

# A sub-make (board/bearssl.mk): the objects build under this make's
# job control, or on every core when this make was started without -j.
# FORCE: it decides itself what is out of date.
BEARSSL_JOBS = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(shell nproc))
$(BEARSSL_LIB): $(BEARSSL_SRC)/inc/bearssl.h FORCE | deps
	@$(MAKE) --no-print-directory $(BEARSSL_JOBS) -f board/bearssl.mk SRC=$(BEARSSL_SRC) LIB=$@ CC="$(CC)" \
		AR="$(AR)" CFLAGS="$(BEARSSL_CFLAGS)"

# ---- musl, from its pinned source, for boards that set MUSL_FROM_SOURCE ----

# Debian's musl-dev for mipsel is MIPS32 built with -O2.  Built here
# with -Os and, where a file allows it, as MIPS16e (board/mips16-cc.sh),
# the musl in a mipsel nomx is about 4 KB smaller.  Installed into
# build/<board>/musl with musl's own gcc specs file (cross.mk's CC).
MUSL_DEBVER := 1.2.3-1
MUSL_SHA256 ?= 7d5b0b6062521e4627e099e4c9dc8248d32a30285e959b7eecaa780cf8cfd4a4
MUSL_TGZ := $(SRCDIR)/musl_1.2.3.orig.tar.gz
MUSL_SRC ?= $(SRCDIR)/musl-1.2.3
MUSL_ROOT := $(TOP)/build/$(BOARD)/musl

$(MUSL_TGZ):
	board/fetch-source.sh musl $(MUSL_DEBVER) $@ $(MUSL_SHA256) "$(MUSL_TARBALL)"

$(SRCDIR)/musl-1.2.3/configure: | $(MUSL_TGZ)
	tar -C $(SRCDIR) -xzf $(MUSL_TGZ)
	touch $@

$(MUSL_ROOT)/musl-gcc.specs: $(MUSL_SRC)/configure board/mips16-cc.sh board/$(BOARD)/board.mk | board-deps
	@echo "  MUSL $(BOARD) (log: $(MUSL_ROOT)/build.log)"
	@rm -rf $(MUSL_ROOT) && mkdir -p $(MUSL_ROOT)/obj
	@cd $(MUSL_ROOT)/obj && $(MUSL_SRC)/configure --target=$(TRIPLE) --prefix=$(MUSL_ROOT) \
		--disable-shared CC="$(MUSL_CC)" CFLAGS="$(MUSL_CFLAGS)" > $(MUSL_ROOT)/build.log 2>&1
	@MIPS32_LOG=$(MUSL_ROOT)/mips32-files.txt $(MAKE) --no-print-directory $(BEARSSL_JOBS) \
		-C $(MUSL_ROOT)/obj install-headers install-libs >> $(MUSL_ROOT)/build.log 2>&1 || \
		{ tail -20 $(MUSL_ROOT)/build.log; exit 1; }
	@sh $(MUSL_SRC)/tools/musl-gcc.specs.sh $(MUSL_ROOT)/include $(MUSL_ROOT)/lib \
		/lib/ld-musl-$(DEB_ARCH).so.1 > $@.part && mv $@.part $@

# ---- nomx ----

# Release build: config.h with the board's overrides.
# The board's config overrides: its own config.h, or the file its
# board.mk names (the router boards share board/router.h).
BOARD_CONFIG ?= $(wildcard board/$(BOARD)/config.h)
REL_DEFS := $(if $(BOARD_CONFIG),-DNOMX_BOARD_CONFIG='"$(TOP)/$(BOARD_CONFIG)"') \
	$(if $(LOCAL_CONFIG),-DNOMX_LOCAL_CONFIG='"$(abspath $(LOCAL_CONFIG))"')
# Test builds, each with its own config header read before config.h:
# dev (tests/dev-config.h: `make run` and the tests) and legacy (the
# dev config plus TLS 1.0, RSA and required AUTH, for their tests).
DEV_DEFS := -DNOMX_LOCAL_CONFIG='"$(TOP)/tests/dev-config.h"' -DNOMX_TEST=1

# SANITIZE=1: the test builds with ASan and UBSan, through the system
# gcc and glibc (sanitizers need a dynamic runtime); the release build
# stays static.  `make test SANITIZE=1` runs the whole suite on them.
ifeq ($(SANITIZE),1)
TEST_CC := gcc
# No sandbox: the sanitizer runtimes make system calls of their own.
TEST_CFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -g -O1 -DNOMX_SANDBOX=0
TEST_LDFLAGS := -fsanitize=address,undefined -Wl,--gc-sections
# LeakSanitizer cannot read /proc from inside the daemon's chroot; the
# daemon allocates nothing after start anyway.  UBSan findings abort.
export ASAN_OPTIONS := detect_leaks=0
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
else ifeq ($(VALGRIND),1)
# VALGRIND=1: the suite with every nomx process (daemon, tools, unit
# tests) under memcheck, on a glibc build so its allocations are seen
# too.  tests/run.sh reads the logs: any invalid access, use of an
# uninitialised value or definite leak fails the run.
# No sandbox: valgrind's own calls would run inside the filter.
TEST_CC := gcc
TEST_CFLAGS := -g -O1 -DNOMX_SANDBOX=0
TEST_LDFLAGS := -Wl,--gc-sections
VG_LOGS = $(TOP)/build/$(BOARD)-vg/valgrind
# A daemonizing nomx forks inside its chroot, where valgrind could not
# open the child's log: the forked child runs unchecked (only one test
# daemonizes; all the others run nomx -f).
RUNNER := valgrind -q --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --child-silent-after-fork=yes \
	--log-file=$(VG_LOGS)/%p.log
else
TEST_CC := $(CC)
TEST_CFLAGS :=
TEST_LDFLAGS := $(LDFLAGS)
endif

# One test build: $(1) its folder, $(2) the config header read before
# config.h.  Objects and the binary, both with the TEST_* flags above.
define test_build
$(1)/obj/%.o: src/%.c $(HDRS) tests/dev-config.h $(2) $(BEARSSL_LIB) | deps
	@mkdir -p $$(@D)
	@echo "  CC $$(notdir $(1)) $$<"
	@$$(TEST_CC) $$(CFLAGS) $$(TEST_CFLAGS) -DNOMX_LOCAL_CONFIG='"$(TOP)/$(2)"' -DNOMX_TEST=1 -c $$< -o $$@

$(1)/nomx: $(SRCS:src/%.c=$(1)/obj/%.o) $(BEARSSL_LIB)
	$$(TEST_CC) $$(TEST_LDFLAGS) -o $$@ $$(filter %.o,$$^) $(BEARSSL_LIB)
endef
$(eval $(call test_build,$(DEVBUILD),tests/dev-config.h))
$(eval $(call test_build,$(LEGACYBUILD),tests/legacy-config.h))

# Link-time optimisation for the release builds, nomx and BearSSL as one
# program (mipsel: 8 KiB smaller).  LTO=0 turns it off (then `make
# clean` for that board: the objects do not know the switch).  The test
# builds go without: the sanitizers and valgrind want the code as
# written.  BearSSL for it is a second library, of LTO objects (gcc-ar).
LTO ?= 1
REL_LTO := $(if $(filter 1,$(LTO)),-flto)
REL_BEARSSL_LIB := $(if $(REL_LTO),$(TOP)/build/$(BOARD)/bearssl-lto/libbearssl.a,$(BEARSSL_LIB))
GCC_AR ?= gcc-ar

$(TOP)/build/$(BOARD)/bearssl-lto/libbearssl.a: $(BEARSSL_SRC)/inc/bearssl.h FORCE | deps
	@$(MAKE) --no-print-directory $(BEARSSL_JOBS) -f board/bearssl.mk SRC=$(BEARSSL_SRC) LIB=$@ CC="$(CC)" \
		AR="$(GCC_AR)" CFLAGS="$(BEARSSL_CFLAGS) -flto"

$(BUILD)/obj/%.o: src/%.c $(HDRS) $(BOARD_CONFIG) board/$(BOARD)/board.mk $(LOCAL_CONFIG) $(BEARSSL_LIB) | deps
	@mkdir -p $(@D)
	@echo "  CC $(BOARD) $<"
	@$(CC) $(CFLAGS) $(REL_LTO) $(REL_DEFS) -c $< -o $@

$(BUILD)/nomx: $(SRCS:src/%.c=$(BUILD)/obj/%.o) $(REL_BEARSSL_LIB) board/$(BOARD)/board.mk
	$(CC) $(LDFLAGS) $(if $(REL_LTO),-flto=auto $(OPT) $(BOARD_CFLAGS)) -Wl,-Map=$@.map -o $@ \
		$(filter %.o,$^) $(REL_BEARSSL_LIB)
	@$(SIZE) $@

# swaks (with Perl's TLS modules) too: it is what the first lines it
# prints suggest trying.
run: deps $(DEVBUILD)/nomx
	@board/setup.sh build swaks libnet-ssleay-perl libio-socket-ssl-perl
	@[ -f $(SPOOL)/key.pem ] || $(DEVBUILD)/nomx -s $(SPOOL) keygen
	@echo "nomx: dev config on 127.0.0.1 and ::1, port $(PORT) (SMTPS $(TLSPORT)), spool $(SPOOL); Ctrl-C stops"
	@echo "nomx: try  swaks --server 127.0.0.1:$(PORT) --to alice@mail.example.com --tls"
	$(DEVBUILD)/nomx -f -p $(PORT) -P $(TLSPORT) -s $(SPOOL)

# ---- tests ----

UNIT_TESTS := $(patsubst tests/unit/%.c,$(DEVBUILD)/unit/%,$(wildcard tests/unit/*_test.c))

$(DEVBUILD)/unit/%: tests/unit/%.c tests/unit/check.h $(LIB_SRCS:src/%.c=$(DEVBUILD)/obj/%.o) $(BEARSSL_LIB)
	@mkdir -p $(@D)
	@echo "  UNIT $@"
	@$(TEST_CC) $(CFLAGS) $(TEST_CFLAGS) $(DEV_DEFS) -Isrc $(TEST_LDFLAGS) -o $@ $< \
		$(LIB_SRCS:src/%.c=$(DEVBUILD)/obj/%.o) $(BEARSSL_LIB)

# The golden session dialogues link the pure core and nothing else: no
# sockets, spool or TLS (src/smtp.h).
SESSION_CORE := smtp smtp_cmd addr ip_parse data stage auth base64 reply log message spool_rec crc32c utc fmt
$(DEVBUILD)/unit/session_test: tests/unit/session_test.c tests/unit/session_host.h \
		$(SESSION_CORE:%=$(DEVBUILD)/obj/%.o) $(wildcard tests/unit/sessions/*)
	@mkdir -p $(@D)
	@echo "  UNIT $@"
	@$(TEST_CC) $(CFLAGS) $(TEST_CFLAGS) $(DEV_DEFS) -DSESSIONS_DIR='"$(TOP)/tests/unit/sessions"' \
		-Isrc $(TEST_LDFLAGS) -o $@ $< $(SESSION_CORE:%=$(DEVBUILD)/obj/%.o)

unit: $(UNIT_TESTS)

# Postfix's smtp-source for the load test, unpacked from Debian's
# package into the build folder: no system-wide Postfix is installed.
SMTP_SOURCE := $(TOP)/build/tools/usr/sbin/smtp-source
$(SMTP_SOURCE):
	@mkdir -p $(TOP)/build/tools/deb
	@cd $(TOP)/build/tools/deb && rm -f postfix_*.deb && apt-get download postfix >/dev/null 2>&1 \
		&& dpkg -x postfix_*.deb $(TOP)/build/tools \
		|| echo "nomx: could not fetch Postfix's smtp-source; the load test will be skipped"

# The mailers firmware carries that are MTAs themselves (ssmtp, esmtp,
# nullmailer: each conflicts with an installed Postfix), unpacked from
# Debian's packages into the build folder for test_mailers.py.
MAILERS := $(TOP)/build/tools/mailers/usr/sbin/ssmtp
$(MAILERS):
	@mkdir -p $(TOP)/build/tools/mailers/deb
	@cd $(TOP)/build/tools/mailers/deb && rm -f *.deb && \
		apt-get download ssmtp esmtp libesmtp6 nullmailer >/dev/null && \
		for d in *.deb; do dpkg -x $$d $(TOP)/build/tools/mailers || exit 1; done

# The emulated router's tests (test_vm.py) run once, in the host's plain
# run: they test the release mipsel binary, which the other runs do not
# rebuild.
VM_TEST := $(if $(and $(filter host,$(BOARD)),$(filter dev,$(TESTKIND))),vm-image)

test: test-deps $(BUILD)/nomx $(DEVBUILD)/nomx $(LEGACYBUILD)/nomx $(UNIT_TESTS) $(SMTP_SOURCE) \
		$(MAILERS) $(VM_TEST)
	@$(if $(VG_LOGS),rm -rf $(VG_LOGS) && mkdir -p $(VG_LOGS) &&) \
	BOARD=$(BOARD) TESTKIND=$(TESTKIND) VM=$(if $(VM_TEST),$(VM)) \
	NOMX=$(DEVBUILD)/nomx NOMX_LEGACY=$(LEGACYBUILD)/nomx UNIT_DIR=$(DEVBUILD)/unit RUNNER="$(RUNNER)" \
		TOOLS=$(TOP)/build/tools VG_LOGS=$(VG_LOGS) tests/run.sh

# ---- fuzzing (libFuzzer, clang from Debian) ----

FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-DNOMX_LOCAL_CONFIG='"$(TOP)/tests/dev-config.h"' -Isrc -I$(BEARSSL_SRC)/inc
FUZZ_TARGETS := $(patsubst tests/fuzz/%_fuzz.c,$(TOP)/build/fuzz/%_fuzz,$(wildcard tests/fuzz/*_fuzz.c))
FUZZ_SRCS_frame := src/frame.c src/base64.c src/crc32c.c src/fmt.c
FUZZ_SRCS_addr := src/addr.c src/ip_parse.c
FUZZ_SRCS_fmt := src/fmt.c
FUZZ_SRCS_data := src/data.c
FUZZ_SRCS_spool = src/spool_scan.c src/spool_dir.c src/spool_rec.c src/crc32c.c src/fault.c src/log.c src/fmt.c \
	src/number.c src/rand.c $(FUZZ_BEARSSL)
# BearSSL for the fuzz targets: its parsers (ssl/, x509/, codec/) built
# by clang with coverage and the sanitizers, so libFuzzer is guided
# through them too; its arithmetic plain -O2, or every input would cost
# a tenth of a second of instrumented P-256.
FUZZ_BEARSSL := $(TOP)/build/fuzz/bearssl/libbearssl.a
FUZZ_SRCS_smtp := $(SESSION_CORE:%=src/%.c)
FUZZ_SRCS_ack := src/spool_ack.c src/crc32c.c src/fmt.c src/number.c $(FUZZ_BEARSSL)
FUZZ_SRCS_pem := src/tls_cred.c src/log.c src/fmt.c $(FUZZ_BEARSSL)
FUZZ_SRCS_conn := $(filter-out src/loop.c,$(LIB_SRCS)) $(FUZZ_BEARSSL)
# fetch_fuzz: the reassembly, and the real spool and export that make
# the stream it damages.
FUZZ_SRCS_fetch := $(filter-out src/conn.c src/loop.c,$(LIB_SRCS)) $(FUZZ_BEARSSL)
FUZZ_SRCS_tls := src/tls.c src/tls_cred.c src/log.c src/fmt.c src/rand.c src/keygen.c src/passwd.c src/number.c \
	src/ip_parse.c src/clock.c \
	src/utc.c $(FUZZ_BEARSSL)

$(FUZZ_BEARSSL): $(BEARSSL_SRC)/inc/bearssl.h FORCE | fuzz-deps
	@$(MAKE) --no-print-directory $(BEARSSL_JOBS) -f board/bearssl.mk SRC=$(BEARSSL_SRC) LIB=$@ CC=$(FUZZ_CC) \
		AR=ar CFLAGS="-std=c99 -g -w" SPECIAL_DIRS="ssl x509 codec" \
		SPECIAL_CFLAGS="-O1 -fsanitize=fuzzer-no-link,address,undefined" OTHER_CFLAGS=-O2

# Each target is rebuilt when any source it links changes.
.SECONDEXPANSION:
$(TOP)/build/fuzz/%_fuzz: tests/fuzz/%_fuzz.c $(HDRS) $(wildcard tests/fuzz/*.h) $$(FUZZ_SRCS_$$*) | fuzz-deps
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $< $(FUZZ_SRCS_$*)

# Each target for FUZZ_SECONDS on a copy of its seed corpus; any crash,
# leak or sanitizer report fails.
fuzz-deps:
	@board/setup.sh build clang libclang-rt-14-dev

# One make target per fuzz target, so `make -j2 -Otarget fuzz` runs two
# at once on two cores.
fuzz: $(FUZZ_TARGETS:$(TOP)/build/fuzz/%_fuzz=fuzz-%)

fuzz-%: $(TOP)/build/fuzz/%_fuzz | fuzz-deps
	@mkdir -p $(TOP)/build/fuzz/corpus-$* && cp -n tests/fuzz/corpus/$*/* $(TOP)/build/fuzz/corpus-$*/ 2>/dev/null; \
	echo "fuzz $* for $(FUZZ_SECONDS) s"; \
	$< -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/$*.dict -print_final_stats=1 \
		-artifact_prefix=$(TOP)/build/fuzz/$*- $(TOP)/build/fuzz/corpus-$* \
		> $(TOP)/build/fuzz/$*.log 2>&1; rc=$$?; tail -6 $(TOP)/build/fuzz/$*.log; \
	[ $$rc = 0 ] || { echo "fuzz $* FAILED (build/fuzz/$*.log)"; exit 1; }

# ---- benchmarks: nomx next to Postfix and smtp-sink, same run ----

BENCH_BIN := $(TOP)/build/$(BOARD)-bench/nomx

# Built by a sub-make with BUILD pointing there (not when already in it).
ifneq ($(BUILD),$(TOP)/build/$(BOARD)-bench)
$(BENCH_BIN): $(SRCS) $(HDRS) tests/dev-config.h tests/bench/bench-config.h $(BEARSSL_LIB)
	$(MAKE) -s LOCAL_CONFIG=tests/bench/bench-config.h BUILD=$(TOP)/build/$(BOARD)-bench $@
endif

bench: test-deps $(BUILD)/nomx $(BENCH_BIN) $(SMTP_SOURCE)
	@board/setup.sh build valgrind e2fsprogs
	python3 tests/bench/bench.py

# ---- the emulated router: Debian's MIPS Malta kernel, BusyBox, flash ----

# Everything comes from Debian's packages at build time (board/vm/
# fetch-debs.sh); the image holds the release mipsel nomx, stripped, as
# a router's firmware would.  `make vm` boots it with the console on
# the terminal (CONSOLE=pty puts it on a pseudo-terminal, for `nomx
# fetch --serial`); FS=jffs2 puts JFFS2 on the flash instead of UBIFS.
VM := $(TOP)/build/vm
VM_TOOLS := $(VM)/tools/ubimkvol $(VM)/tools/mtdraw $(VM)/tools/maildir-writer
CONSOLE ?= stdio
FS ?= ubifs

ifeq ($(BOARD),mipsel)
vm-image: $(VM)/vmlinuz $(VM)/initramfs.cpio.gz

$(VM)/debs/versions: board/vm/fetch-debs.sh
	@board/setup.sh build qemu-system-mips kmod cpio
	board/vm/fetch-debs.sh $(VM)/debs

$(VM)/vmlinuz: $(VM)/debs/versions
	cp $(VM)/debs/root/boot/vmlinuz-* $@

$(VM)/nomx: $(BUILD)/nomx
	$(STRIP) -o $@ $<

$(VM)/tools/ubimkvol: board/vm/ubimkvol.c | deps
$(VM)/tools/mtdraw: board/vm/mtdraw.c | deps
$(VM)/tools/maildir-writer: tests/vm/maildir_writer.c | deps
$(VM_TOOLS):
	@mkdir -p $(@D)
	$(CC) $(CSTD) $(WARN) -Os -static -s -o $@ $<

$(VM)/initramfs.cpio.gz: $(VM)/debs/versions $(VM)/nomx $(VM_TOOLS) board/vm/initramfs.sh \
		board/vm/init board/vm/flash board/busybox/S50nomx
	board/vm/initramfs.sh $(VM)/debs $@ $(VM)/nomx $(VM_TOOLS)
else
vm-image:
	@$(MAKE) --no-print-directory BOARD=mipsel vm-image
endif

vm: vm-image
	@board/setup.sh build qemu-system-mips
	FS=$(FS) PORT=$(PORT) TLSPORT=$(TLSPORT) CONSOLE=$(CONSOLE) board/vm/qemu.sh $(VM)

# Flash wear per message, nomx beside a Maildir writer (tests/vm/wear.py;
# CELL="ubifs 1KiB c8" one cell, RUNS=N each cell N times).
vm-wear: test-deps vm-image $(DEVBUILD)/nomx
	VM=$(VM) NOMX=$(DEVBUILD)/nomx WEAR_CELL="$(CELL)" WEAR_RUNS="$(RUNS)" python3 tests/vm/wear.py

# More power cuts than the suite's (FS=ubifs, ubifs-torn or jffs2: how
# each is cut, tests/README.md "On the emulated router"); SEED= varies
# them.
CUTS ?= 200
SEED ?= 11
CUT_TEST_ubifs := test_power_cuts_on_ubifs
CUT_TEST_ubifs-torn := test_torn_writes_on_ubifs
CUT_TEST_jffs2 := test_power_cuts_on_jffs2
vm-powercut: test-deps vm-image $(DEVBUILD)/nomx
	@case "$(FS)" in ubifs|ubifs-torn|jffs2) ;; *) echo "nomx: power cuts need FS=ubifs, ubifs-torn or jffs2"; exit 1;; esac
	VM=$(VM) VM_CUTS=$(CUTS) VM_TORN_CUTS=$(CUTS) VM_SEED=$(SEED) NOMX=$(DEVBUILD)/nomx TEST_TMP=$$(mktemp -d) \
		python3 tests/integration/run.py test_vm.$(CUT_TEST_$(FS))

# ---- install and packages ----

# INIT: which init files go with the binary (systemd, openwrt, busybox,
# none); boards say what fits them.
INIT ?= $(or $(BOARD_INIT),systemd)
DESTDIR ?=
PREFIX ?= /usr

install: $(BUILD)/nomx
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)/etc/nomx
	$(STRIP) -o $(DESTDIR)$(PREFIX)/sbin/nomx $(BUILD)/nomx
	chmod 755 $(DESTDIR)$(PREFIX)/sbin/nomx
ifneq ($(INIT),openwrt)
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 644 board/nomx.8 $(DESTDIR)$(PREFIX)/share/man/man8/nomx.8
	install -d $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 board/nomx-spool.5 $(DESTDIR)$(PREFIX)/share/man/man5/nomx-spool.5
endif
ifeq ($(INIT),systemd)
	install -d $(DESTDIR)/lib/systemd/system
	install -m 644 board/systemd/nomx.service $(DESTDIR)/lib/systemd/system/nomx.service
	install -m 644 board/systemd/nomx-fetch@.service $(DESTDIR)/lib/systemd/system/nomx-fetch@.service
endif
ifeq ($(INIT),openwrt)
	install -d $(DESTDIR)/etc/init.d
	install -m 755 board/openwrt/files/nomx.init $(DESTDIR)/etc/init.d/nomx
endif
ifeq ($(INIT),busybox)
	install -d $(DESTDIR)/etc/init.d
	install -m 755 board/busybox/S50nomx $(DESTDIR)/etc/init.d/S50nomx
endif

# An .ipk for OpenWrt's opkg, built from `make install INIT=openwrt`.
IPK := $(BUILD)/nomx_$(VERSION)_$(IPK_ARCH).ipk
ipk: $(BUILD)/nomx
	@[ -n "$(IPK_ARCH)" ] || { echo "nomx: board $(BOARD) has no IPK_ARCH"; exit 1; }
	rm -rf $(BUILD)/ipk-root
	$(MAKE) -s BOARD=$(BOARD) INIT=openwrt DESTDIR=$(BUILD)/ipk-root PREFIX=/usr install
	python3 board/ipk.py $(IPK) $(BUILD)/ipk-root $(VERSION) $(IPK_ARCH)

# ---- sizes: every board whose compiler is installed, with and without TLS ----

BOARDS := $(filter-out openwrt,$(notdir $(patsubst %/board.mk,%,$(wildcard board/*/board.mk))))

sizes:
	@for b in $(BOARDS); do \
		$(MAKE) -s BOARD=$$b all >/dev/null && \
		$(MAKE) -s BOARD=$$b LOCAL_CONFIG=board/no-tls.h BUILD=$(TOP)/build/$$b-notls \
			$(TOP)/build/$$b-notls/nomx >/dev/null && \
		$(MAKE) -s BOARD=$$b LTO=0 BUILD=$(TOP)/build/$$b-nolto \
			$(TOP)/build/$$b-nolto/nomx >/dev/null || echo "nomx: $$b not built"; \
	done
	@python3 board/sizes.py $(BOARDS)

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--std=c11 --inline-suppr -D__linux__ -D"noreturn=__attribute__((noreturn))" \
		-Isrc src tests/unit board/vm tests/vm

# Everything the build made, for every board: the builds, the test,
# fuzz and bench folders, the emulated router, and the fetched sources
# and packages (fetched again, checked against their pins, when next
# needed).
clean:
	rm -rf build

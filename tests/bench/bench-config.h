/* SPDX-License-Identifier: ISC */
/*
 * `make bench`: the dev config (tests/dev-config.h) in a release build,
 * without the greeting pause, which is there for the early-talker test
 * and would cost every smtp-source connection 100 ms, and without the
 * sandbox: the bench also runs this binary under callgrind, and a
 * seccomp filter would end valgrind's own system calls.  The filter is
 * a short BPF program per system call, a few hundred nanoseconds a
 * message against the milliseconds measured.
 */
#include "../dev-config.h"
#undef NOMX_GREET_PAUSE_MS
#define NOMX_GREET_PAUSE_MS 0
#undef NOMX_SANDBOX
#define NOMX_SANDBOX 0

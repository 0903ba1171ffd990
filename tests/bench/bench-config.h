/* SPDX-License-Identifier: ISC */
/*
 * `make bench`: the dev config (tests/dev-config.h) in a release build,
 * without the greeting pause, which is there for the early-talker test
 * and would cost every smtp-source connection 100 ms.
 */
#include "../dev-config.h"
#undef NOMX_GREET_PAUSE_MS
#define NOMX_GREET_PAUSE_MS 0

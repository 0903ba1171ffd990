/* SPDX-License-Identifier: ISC */
/*
 * `nomx spool ...`: read the spool on the device, safe while the daemon
 * runs (read-only, no lock; a record being written is not there yet).
 */
#ifndef NOMX_SPOOLTOOL_H
#define NOMX_SPOOLTOOL_H

#include "spool_rec.h"

/* argv[0] is the subcommand (ls, cat).  Returns the exit code. */
int spooltool_main(const char *spooldir, int argc, char **argv);

/* `spool ls`'s line for a record, without the newline, to stdout:
 * seq, time (UTC), size, <sender>, <recipient>... */
void spooltool_ls_line(const struct spool_rec *r, const unsigned char *env);

#endif

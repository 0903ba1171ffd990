/* SPDX-License-Identifier: ISC */
/*
 * `nomx spool export` and `nomx spool ack`: the device side of fetch.
 * Exit status: 0; 1 for a refused ack; 100 usage; 111 system error.
 */
#ifndef NOMX_EXPORT_H
#define NOMX_EXPORT_H

/* `nomx spool export [--from SEQ]`: the framed stream on stdout. */
int export_main(const char *spooldir, int argc, char **argv);

/* `nomx spool ack SEQ TOKEN`: record what the collector has, then
 * remove the segments that are wholly acknowledged. */
int export_ack_main(const char *spooldir, int argc, char **argv);

#endif

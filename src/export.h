/* SPDX-License-Identifier: ISC */
/*
 * `nomx spool export` and `nomx spool ack`: the device side of fetch.
 * Exit status: 0; 1 for a refused ack; 100 usage; 111 system error.
 */
#ifndef NOMX_EXPORT_H
#define NOMX_EXPORT_H

int export_main(const char *spooldir, int argc, char **argv);
int ack_main(const char *spooldir, int argc, char **argv);

#endif

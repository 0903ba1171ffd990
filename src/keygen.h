/* SPDX-License-Identifier: ISC */
/*
 * `nomx keygen [-f]`: make the TLS key and a self-signed certificate
 * on the device.  Relative NOMX_TLS_KEY/NOMX_TLS_CERT paths are in the
 * spool folder.  Exit status: 0, 1 (files exist), 100, 111.
 */
#ifndef NOMX_KEYGEN_H
#define NOMX_KEYGEN_H

int keygen_main(const char *spooldir, int argc, char **argv);

#endif

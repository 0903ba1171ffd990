/* SPDX-License-Identifier: ISC */
/* For `make sizes`: the same build without TLS (BearSSL stays linked
 * only for the DRBG behind the spool id and export tokens). */
#define NOMX_TLS 0

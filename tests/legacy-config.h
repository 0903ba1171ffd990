/* SPDX-License-Identifier: ISC */
/*
 * The legacy test build (build/<board>-legacy): the dev config with
 * every compatibility switch on, so their tests run against a real
 * binary: TLS 1.0/1.1 and AES-CBC, RSA keys, AUTH required and offered
 * without TLS, paths only in brackets; and a small quota.
 */
#define NOMX_TLS_LEGACY 1
#define NOMX_TLS_RSA 1
#define NOMX_AUTH_REQUIRED 1
#define NOMX_AUTH_PLAINTEXT 1
#define NOMX_STRICT_ENVELOPES 1
/* A small message quota, for the test that a full spool takes mail
 * again once the collector has acknowledged, without a restart. */
#define NOMX_QUOTA_MSGS 8
#include "dev-config.h"

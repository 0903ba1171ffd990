/* SPDX-License-Identifier: ISC */
/*
 * SMTP command lines: the verb table and the argument parsers.  Pure
 * functions over bytes; the session (smtp.c) decides what they mean.
 */
#ifndef NOMX_SMTP_CMD_H
#define NOMX_SMTP_CMD_H

#include <stddef.h>
#include <stdint.h>

enum smtp_verb {
	SMTP_UNKNOWN,
	SMTP_HELO,
	SMTP_EHLO,
	SMTP_MAIL,
	SMTP_RCPT,
	SMTP_DATA,
	SMTP_BDAT,
	SMTP_RSET,
	SMTP_NOOP,
	SMTP_QUIT,
	SMTP_VRFY,
	SMTP_EXPN,
	SMTP_HELP,
	SMTP_STARTTLS,
	SMTP_AUTH,
	SMTP_HTTP,	/* "GET", "POST", ...: a web client; we hang up */
};

struct smtp_cmd {
	enum smtp_verb verb;
	const char *arg;	/* after the verb and one space; not NUL-ended */
	size_t arg_len;
};

/* Split a line (CRLF removed) into verb and argument.  MAIL and RCPT
 * keep "FROM:"/"TO:" in the argument; smtp_cmd_path_arg checks it. */
void smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);

/* For MAIL/RCPT: check the keyword ("FROM:" or "TO:", any case) and
 * skip it and any spaces after it (a common, harmless deviation).
 * Returns 0 and advances p and len past it, or -1. */
int smtp_cmd_path_arg(const char **p, size_t *len, const char *keyword);

enum smtp_param_result {
	SMTP_PARAM_OK,
	SMTP_PARAM_SYNTAX,	/* 501 5.5.4 */
	SMTP_PARAM_UNKNOWN,	/* 555 5.5.4 */
};

struct smtp_mail_params {
	uint64_t size;		/* SIZE=, 0 if absent */
	int body_8bit;		/* BODY=8BITMIME */
	int smtputf8;		/* SMTPUTF8 */
};

/* The ESMTP parameters after the reverse-path. */
enum smtp_param_result smtp_cmd_mail_params(const char *p, size_t len,
    struct smtp_mail_params *out);

/* RCPT parameters: we support none; anything is SMTP_PARAM_UNKNOWN. */
enum smtp_param_result smtp_cmd_rcpt_params(const char *p, size_t len);

/* "BDAT <size> [LAST]": 0 and the values, or -1. */
int smtp_cmd_bdat_args(const char *p, size_t len, uint64_t *size, int *last);

#endif

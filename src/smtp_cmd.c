/* SPDX-License-Identifier: ISC */
/*
 * The command table and argument grammar of RFC 5321 4.1.1 and the
 * ESMTP extensions we advertise (SIZE: RFC 1870, 8BITMIME: RFC 6152,
 * SMTPUTF8: RFC 6531, CHUNKING: RFC 3030).
 */
#include <string.h>

#include "smtp_cmd.h"
#include "text.h"

static const struct {
	const char *name;
	enum smtp_verb verb;
} smtp_cmd_table[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "MAIL", SMTP_MAIL },
	{ "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA }, { "BDAT", SMTP_BDAT },
	{ "RSET", SMTP_RSET }, { "NOOP", SMTP_NOOP }, { "QUIT", SMTP_QUIT },
	{ "VRFY", SMTP_VRFY }, { "EXPN", SMTP_EXPN }, { "HELP", SMTP_HELP },
	{ "STARTTLS", SMTP_STARTTLS }, { "AUTH", SMTP_AUTH },
	{ "GET", SMTP_HTTP }, { "POST", SMTP_HTTP }, { "HEAD", SMTP_HTTP },
	{ "CONNECT", SMTP_HTTP },
};

void
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
	size_t vlen = 0;

	while (vlen < len && line[vlen] != ' ') {
		vlen++;
	}
	cmd->verb = SMTP_UNKNOWN;
	cmd->arg = line + vlen + (vlen < len);
	cmd->arg_len = len - vlen - (vlen < len);
	for (size_t i = 0; i < sizeof(smtp_cmd_table) / sizeof(smtp_cmd_table[0]); i++) {
		if (ascii_is(line, vlen, smtp_cmd_table[i].name)) {
			cmd->verb = smtp_cmd_table[i].verb;
			break;
		}
	}
}

int
smtp_cmd_path_arg(const char **p, size_t *len, const char *keyword)
{
	size_t n = strlen(keyword);

	if (!ascii_prefix(*p, *len, keyword)) {
		return -1;
	}
	*p += n;
	*len -= n;
	while (*len > 0 && **p == ' ') {
		(*p)++;
		(*len)--;
	}
	return 0;
}

/* Next space-separated word of p[*i..len). */
static size_t
smtp_cmd_word(const char *p, size_t len, size_t *i, const char **w)
{
	size_t start;

	while (*i < len && p[*i] == ' ') {
		(*i)++;
	}
	start = *i;
	while (*i < len && p[*i] != ' ') {
		(*i)++;
	}
	*w = p + start;
	return *i - start;
}

static int
smtp_cmd_number(const char *p, size_t len, uint64_t *v)
{
	*v = 0;
	if (len == 0 || len > 18) {
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9') {
			return -1;
		}
		*v = *v * 10 + (uint64_t)(p[i] - '0');
	}
	return 0;
}

enum smtp_param_result
smtp_cmd_mail_params(const char *p, size_t len, struct smtp_mail_params *out)
{
	size_t i = 0, n;
	const char *w;

	memset(out, 0, sizeof(*out));
	while ((n = smtp_cmd_word(p, len, &i, &w)) > 0) {
		if (ascii_prefix(w, n, "SIZE=")) {
			if (smtp_cmd_number(w + 5, n - 5, &out->size) < 0) {
				return SMTP_PARAM_SYNTAX;
			}
		} else if (ascii_prefix(w, n, "BODY=")) {
			if (ascii_is(w + 5, n - 5, "8BITMIME")) {
				out->body_8bit = 1;
			} else if (!ascii_is(w + 5, n - 5, "7BIT")) {
				return SMTP_PARAM_SYNTAX;
			}
		} else if (ascii_is(w, n, "SMTPUTF8")) {
			out->smtputf8 = 1;
		} else if (ascii_prefix(w, n, "AUTH=") && n > 5) {
			/* RFC 4954 5: the original submitter, as xtext.  Clients
			 * send it once AUTH is offered; it changes nothing here. */
		} else {
			return SMTP_PARAM_UNKNOWN;
		}
	}
	return SMTP_PARAM_OK;
}

enum smtp_param_result
smtp_cmd_rcpt_params(const char *p, size_t len)
{
	size_t i = 0;
	const char *w;

	return smtp_cmd_word(p, len, &i, &w) > 0 ? SMTP_PARAM_UNKNOWN : SMTP_PARAM_OK;
}

int
smtp_cmd_bdat_args(const char *p, size_t len, uint64_t *size, int *last)
{
	size_t i = 0, n;
	const char *w;

	n = smtp_cmd_word(p, len, &i, &w);
	if (smtp_cmd_number(w, n, size) < 0) {
		return -1;
	}
	*last = 0;
	n = smtp_cmd_word(p, len, &i, &w);
	if (n > 0) {
		if (!ascii_is(w, n, "LAST")) {
			return -1;
		}
		*last = 1;
	}
	return smtp_cmd_word(p, len, &i, &w) == 0 ? 0 : -1;
}

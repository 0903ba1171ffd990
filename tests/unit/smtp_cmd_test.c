/* SPDX-License-Identifier: ISC */
/* Command lines: verbs, MAIL/RCPT keywords, ESMTP parameters, BDAT. */
#include "check.h"
#include "smtp_cmd.h"

static void
verbs(void)
{
	static const struct { const char *line; enum smtp_verb verb; const char *arg; } cases[] = {
		{ "EHLO ups.local", SMTP_EHLO, "ups.local" },
		{ "ehlo x", SMTP_EHLO, "x" },
		{ "HELO", SMTP_HELO, "" },
		{ "MAIL FROM:<a@b>", SMTP_MAIL, "FROM:<a@b>" },
		{ "rcpt to:<a@b>", SMTP_RCPT, "to:<a@b>" },
		{ "DATA", SMTP_DATA, "" },
		{ "BDAT 10 LAST", SMTP_BDAT, "10 LAST" },
		{ "QUIT", SMTP_QUIT, "" },
		{ "STARTTLS", SMTP_STARTTLS, "" },
		{ "GET / HTTP/1.0", SMTP_HTTP, "/ HTTP/1.0" },
		{ "DATAX", SMTP_UNKNOWN, "" },
		{ "MAILFROM:<a@b>", SMTP_UNKNOWN, "" },
		{ "", SMTP_UNKNOWN, "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_cmd c;
		smtp_cmd_parse(cases[i].line, strlen(cases[i].line), &c);
		CHECK(c.verb == cases[i].verb, "%s: verb %d", cases[i].line, c.verb);
		CHECK(c.arg_len == strlen(cases[i].arg) && memcmp(c.arg, cases[i].arg, c.arg_len) == 0,
		    "%s: arg %.*s", cases[i].line, (int)c.arg_len, c.arg);
	}
}

static void
path_keyword(void)
{
	const char *p = "from:  <a@b>";
	size_t len = strlen(p);

	CHECK_INT(smtp_cmd_path_arg(&p, &len, "FROM:"), 0);
	CHECK_INT(len, 5);
	p = "TO <a@b>";
	len = strlen(p);
	CHECK_INT(smtp_cmd_path_arg(&p, &len, "TO:"), -1);
}

static void
mail_params(void)
{
	struct smtp_mail_params m;
	const char *p = " SIZE=1234 BODY=8BITMIME SMTPUTF8";

	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_OK);
	CHECK_INT(m.size, 1234);
	CHECK_INT(m.body_8bit, 1);
	CHECK_INT(m.smtputf8, 1);
	p = " body=7bit";
	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_OK);
	CHECK_INT(m.body_8bit, 0);
	p = " SIZE=12x";
	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_SYNTAX);
	p = " SIZE=";
	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_SYNTAX);
	p = " SIZE=99999999999999999999";
	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_SYNTAX);
	p = " BODY=BINARYMIME";
	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_SYNTAX);
	p = " RET=HDRS";
	CHECK_INT(smtp_cmd_mail_params(p, strlen(p), &m), SMTP_PARAM_UNKNOWN);
	CHECK_INT(smtp_cmd_rcpt_params("", 0), SMTP_PARAM_OK);
	CHECK_INT(smtp_cmd_rcpt_params(" NOTIFY=NEVER", 13), SMTP_PARAM_UNKNOWN);
}

static void
bdat_args(void)
{
	uint64_t size;
	int last;

	CHECK_INT(smtp_cmd_bdat_args("100", 3, &size, &last), 0);
	CHECK_INT(size, 100);
	CHECK_INT(last, 0);
	CHECK_INT(smtp_cmd_bdat_args("0 last", 6, &size, &last), 0);
	CHECK_INT(size, 0);
	CHECK_INT(last, 1);
	CHECK_INT(smtp_cmd_bdat_args("", 0, &size, &last), -1);
	CHECK_INT(smtp_cmd_bdat_args("-1", 2, &size, &last), -1);
	CHECK_INT(smtp_cmd_bdat_args("10 LAST x", 9, &size, &last), -1);
	CHECK_INT(smtp_cmd_bdat_args("10 FIRST", 8, &size, &last), -1);
}

CHECK_MAIN(CASE(verbs), CASE(path_keyword), CASE(mail_params), CASE(bdat_args))

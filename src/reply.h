/* SPDX-License-Identifier: ISC */
/*
 * Every SMTP reply nomx sends, with its RFC 3463 enhanced status code,
 * in one table.  Some take printf arguments, noted beside them.
 */
#ifndef NOMX_REPLY_H
#define NOMX_REPLY_H

#include <stdarg.h>
#include <stddef.h>

#define REPLIES(R) \
	R(GREETING,	"220 %s ESMTP nomx")			/* hostname */ \
	R(EARLY_TALKER,	"554 5.5.0 %s talking before the greeting, goodbye") /* hostname */ \
	R(HELO,		"250 %s")				/* hostname */ \
	R(OK,		"250 2.0.0 Ok") \
	R(MAIL_OK,	"250 2.1.0 Sender ok") \
	R(RCPT_OK,	"250 2.1.5 Recipient ok") \
	R(QUEUED,	"250 2.0.0 Ok: queued as %llu")		/* seq */ \
	R(CHUNK_OK,	"250 2.0.0 %llu octets received")	/* chunk size */ \
	R(DATA_GO,	"354 End data with <CR><LF>.<CR><LF>") \
	R(BYE,		"221 2.0.0 %s closing connection")	/* hostname */ \
	R(VRFY,		"252 2.5.0 Cannot VRFY user, but will accept message for delivery") \
	R(HELP,		"214 2.0.0 Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP VRFY HELP QUIT") \
	R(STARTTLS_GO,	"220 2.0.0 Ready to start TLS") \
	R(AUTH_OK,	"235 2.7.0 Authentication successful") \
	R(AUTH_PROMPT,	"334 %s")				/* base64 challenge */ \
	R(TIMEOUT,	"421 4.4.2 %s timeout, closing connection")	/* hostname */ \
	R(EVICTED,	"421 4.4.2 %s idle too long, the slot is needed, closing connection") /* hostname */ \
	R(SHUTDOWN,	"421 4.3.2 %s service shutting down")	/* hostname */ \
	R(BUSY,		"421 4.3.2 %s too many connections, try again later") /* hostname */ \
	R(BUSY_IP,	"421 4.7.0 %s too many connections from your address") /* hostname */ \
	R(TOO_MANY_ERRORS, "421 4.7.0 %s too many errors, closing connection") /* hostname */ \
	R(STORE_FAILED,	"451 4.3.0 Message not stored, try again later") \
	R(NO_ROOM,	"452 4.3.1 Insufficient system storage, try again later") \
	R(TOO_MANY_RCPT, "452 4.5.3 Too many recipients") \
	R(TLS_BUSY,	"454 4.7.0 TLS not available now, try again later") \
	R(LINE_TOO_LONG, "500 5.5.2 Line too long") \
	R(BAD_CHAR,	"500 5.5.2 Syntax error: bad character in command") \
	R(UNKNOWN_CMD,	"500 5.5.1 Command unrecognized") \
	R(HTTP,		"500 5.5.1 This is an SMTP server, not a web server") \
	R(NEED_ARG,	"501 5.5.4 Syntax error: argument required") \
	R(NO_ARG,	"501 5.5.4 Syntax error: no arguments allowed") \
	R(BAD_HELO,	"501 5.5.4 Syntax error: invalid HELO/EHLO name") \
	R(MAIL_SYNTAX,	"501 5.5.4 Syntax: MAIL FROM:<address>") \
	R(RCPT_SYNTAX,	"501 5.5.4 Syntax: RCPT TO:<address>") \
	R(BDAT_SYNTAX,	"501 5.5.4 Syntax: BDAT size [LAST], closing connection") \
	R(PARAM_SYNTAX,	"501 5.5.4 Syntax error in parameters") \
	R(BAD_ADDR,	"501 5.1.3 Bad address syntax") \
	R(ADDR_TOO_LONG, "501 5.1.3 Address too long (RFC 5321 4.5.3.1)") \
	R(AUTH_CANCEL,	"501 5.7.0 Authentication cancelled") \
	R(AUTH_B64,	"501 5.5.2 Cannot decode the response") \
	R(NOT_IMPL,	"502 5.5.1 Command not implemented") \
	R(NEED_HELO,	"503 5.5.1 Send EHLO or HELO first") \
	R(NEED_EHLO,	"503 5.5.1 Send EHLO first") \
	R(TLS_ACTIVE,	"503 5.5.1 TLS already active") \
	R(AUTH_TWICE,	"503 5.5.1 Already authenticated") \
	R(AUTH_IN_TX,	"503 5.5.1 AUTH not allowed during a mail transaction") \
	R(AUTH_MECH,	"504 5.5.4 Unrecognized authentication type") \
	R(AUTH_REQUIRED, "530 5.7.0 Authentication required") \
	R(AUTH_FAILED,	"535 5.7.8 Authentication credentials invalid") \
	R(AUTH_NEED_TLS, "538 5.7.11 Encryption required for requested authentication mechanism") \
	R(NESTED_MAIL,	"503 5.5.1 Sender already given") \
	R(NEED_MAIL,	"503 5.5.1 Send MAIL first") \
	R(NEED_RCPT,	"554 5.5.1 No valid recipients") \
	R(MIXED_BDAT,	"503 5.5.1 DATA cannot follow BDAT") \
	R(PARAM_UNKNOWN, "555 5.5.4 Unsupported parameter") \
	R(UNKNOWN_USER,	"550 5.1.1 No such mailbox here") \
	R(RELAY_DENIED,	"550 5.7.1 Relay access denied") \
	R(BARE_EOL,	"550 5.6.0 Message refused: bare CR or LF in data (RFC 5321 2.3.8)") \
	R(TOO_BIG,	"552 5.3.4 Message too big for this system") \
	R(NEED_UTF8,	"553 5.6.7 Non-ASCII address requires SMTPUTF8") \
	R(LOOP,		"554 5.4.6 Too many Received: headers, mail loop")

#define REPLY_ENUM(name, text) REPLY_##name,
enum reply { REPLIES(REPLY_ENUM) REPLY_COUNT };
#undef REPLY_ENUM

/* The text of a reply (a printf format). */
const char *reply_text(enum reply r);

/* Append reply r, formatted with its arguments, and CRLF to
 * buf[*len..cap); nothing if it does not fit. */
void reply_put(char *buf, size_t *len, size_t cap, enum reply r, ...);
void reply_vput(char *buf, size_t *len, size_t cap, enum reply r, va_list ap);

/* What EHLO offers beyond the fixed extensions. */
#define REPLY_EHLO_STARTTLS 1
#define REPLY_EHLO_AUTH 2

/* Append the whole EHLO reply for a client at ip, offering what the
 * REPLY_EHLO_* bits in offer say; nothing if it does not fit. */
void reply_ehlo(char *buf, size_t *len, size_t cap, const char *ip, unsigned offer);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Reply text: the table in reply.h turned into lines on the wire, and
 * the one multi-line reply, EHLO's list of extensions.  Everything the
 * server says goes through here, so every line ends in CRLF and none
 * overruns the buffer it is written into.
 */
#include <stdarg.h>
#include <string.h>

#include "../config.h"
#include "fmt.h"
#include "reply.h"

#define REPLY_TEXT(name, text) text,
static const char *const reply_texts[] = { REPLIES(REPLY_TEXT) };
#undef REPLY_TEXT

const char *
reply_text(enum reply r)
{
	return reply_texts[r];
}

void
reply_vput(char *buf, size_t *len, size_t cap, enum reply r, va_list ap)
{
	size_t room = cap - *len;
	int n = fmt_vbuf(buf + *len, room, reply_texts[r], ap);

	if (n < 0 || (size_t)n + 2 >= room) {
		return;
	}
	*len += (size_t)n;
	memcpy(buf + *len, "\r\n", 2);
	*len += 2;
}

void
reply_put(char *buf, size_t *len, size_t cap, enum reply r, ...)
{
	va_list ap;

	va_start(ap, r);
	reply_vput(buf, len, cap, r, ap);
	va_end(ap);
}

void
reply_ehlo(char *buf, size_t *len, size_t cap, const char *ip, unsigned offer)
{
	int n = fmt_buf(buf + *len, cap - *len,
	    "250-%s greets [%s%s]\r\n"
	    "250-PIPELINING\r\n"
	    "250-SIZE %ld\r\n"
	    "250-8BITMIME\r\n"
	    "250-ENHANCEDSTATUSCODES\r\n"
	    "250-SMTPUTF8\r\n"
	    "%s%s"
	    "250 CHUNKING\r\n",
	    NOMX_HOSTNAME, strchr(ip, ':') != NULL ? "IPv6:" : "", ip, (long)NOMX_MSG_MAX,
	    offer & REPLY_EHLO_STARTTLS ? "250-STARTTLS\r\n" : "",
	    offer & REPLY_EHLO_AUTH ? "250-AUTH PLAIN LOGIN\r\n" : "");

	if (n > 0 && (size_t)n < cap - *len) {
		*len += (size_t)n;
	}
}

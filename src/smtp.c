/* SPDX-License-Identifier: ISC */
/*
 * The RFC 5321 server session.
 *
 * Pipelining (RFC 2920) falls out of the design: every complete line
 * in the input buffer is processed in order, each appending its reply,
 * until the input runs dry, the output buffer has no room for another
 * reply, or the session must wait (a message waiting for the group
 * commit).  Transaction errors during DATA/BDAT are sticky: the content
 * is read to its end and answered once.
 *
 * Whatever needs the world outside (room in the spool, a TLS engine,
 * storing a message) is a request the session waits in a state for;
 * see smtp.h.
 */
#include <stdarg.h>
#include <string.h>

#include "auth.h"
#include "base64.h"
#include "fmt.h"
#include "log.h"
#include "smtp.h"
#include "text.h"

static const char smtp_host[] = NOMX_HOSTNAME;

/* Callers keep SMTP_REPLY_MAX free, so a reply always fits. */
static void
smtp_reply(struct smtp_session *s, enum reply r, ...)
{
	va_list ap;

	va_start(ap, r);
	reply_vput(s->out, &s->out_len, sizeof(s->out), r, ap);
	va_end(ap);
}

static void smtp_reset_tx(struct smtp_session *s);

static void
smtp_enter(struct smtp_session *s, enum smtp_state state)
{
#if NOMX_TRACE
	log_info("session=%u state %d -> %d", s->id, s->state, state);
#endif
	s->state = state;
	if (state == SMTP_S_CLOSING) {
		/* Nothing more is read, so an open transaction can never end:
		 * drop it now, or the session would still count as mid-message
		 * to the group commit and to the choice of whom to evict. */
		smtp_reset_tx(s);
	}
}

static void
smtp_reset_tx(struct smtp_session *s)
{
	s->mail = 0;
	s->nrcpt = 0;
	s->rcpt_limit_logged = 0;
	s->bdat = 0;
	s->bdat_left = 0;
	s->from[0] = '\0';
	s->tx_error = REPLY_OK;
	s->stored = 0;
	memset(&s->params, 0, sizeof(s->params));
	stage_reset(&s->body);
}

void
smtp_open(struct smtp_session *s, unsigned id, const char *ip, unsigned flags, int64_t now)
{
	s->state = SMTP_S_GREET;
	s->id = id;
	s->active = now;
	s->greet_at = now + NOMX_GREET_PAUSE_MS;
	s->tls = (flags & SMTP_OPEN_TLS) != 0;
	s->tls_offer = (flags & SMTP_OPEN_STARTTLS) != 0;
	s->engine = 0;
	s->tls_info[0] = '\0';
	s->auth = 0;
	s->auth_step = 0;
	fmt_buf(s->client_ip, sizeof(s->client_ip), "%s", ip);
	s->helo[0] = '\0';
	s->ehlo = 0;
	s->lf_client = 0;
	s->errors = 0;
	s->stress = 0;
	s->in_len = 0;
	s->out_len = 0;
	s->discard_line = 0;
	memset(&s->body, 0, sizeof(s->body));
	smtp_reset_tx(s);
}

static void
smtp_greet(struct smtp_session *s, int early_talker)
{
	if (early_talker) {
		log_warnx("session=%u client=%s early-talker refused", s->id, s->client_ip);
		smtp_reply(s, REPLY_EARLY_TALKER, smtp_host);
		smtp_enter(s, SMTP_S_CLOSING);
		return;
	}
	smtp_reply(s, REPLY_GREETING, smtp_host);
	smtp_enter(s, SMTP_S_CMD);
}

void
smtp_close(struct smtp_session *s)
{
	stage_reset(&s->body);
}

/* A 4xx/5xx the client caused: count it, and hang up after too many. */
static void
smtp_error(struct smtp_session *s, enum reply r)
{
	smtp_reply(s, r);
	if (++s->errors >= (s->stress ? NOMX_STRESS_ERRORS : NOMX_MAX_ERRORS)) {
		log_warnx("session=%u client=%s too-many-errors", s->id, s->client_ip);
		smtp_reply(s, REPLY_TOO_MANY_ERRORS, smtp_host);
		smtp_enter(s, SMTP_S_CLOSING);
	}
}

/* HELO/EHLO names: a domain or an address literal, printable, no
 * characters that would break our Received: header. */
static int
smtp_helo_ok(const char *p, size_t n)
{
	if (n == 0 || n >= 256) {
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= ' ' || c >= 127 || c == '(' || c == ')' || c == '\\' || c == ';') {
			return 0;
		}
	}
	return 1;
}

static void
smtp_do_helo(struct smtp_session *s, const struct smtp_cmd *c)
{
	size_t n = c->arg_len;

	/* Some devices send "EHLO name extra words": the name is the first. */
	for (size_t i = 0; i < c->arg_len; i++) {
		if (c->arg[i] == ' ') {
			n = i;
			break;
		}
	}
	if (!smtp_helo_ok(c->arg, n)) {
		smtp_error(s, c->arg_len == 0 ? REPLY_NEED_ARG : REPLY_BAD_HELO);
		return;
	}
	memcpy(s->helo, c->arg, n);
	s->helo[n] = '\0';
	s->ehlo = c->verb == SMTP_EHLO;
	smtp_reset_tx(s);
	if (!s->ehlo) {
		smtp_reply(s, REPLY_HELO, smtp_host);
		return;
	}
	reply_ehlo(s->out, &s->out_len, sizeof(s->out), s->client_ip,
	    (!s->tls && s->tls_offer ? REPLY_EHLO_STARTTLS : 0) |
	    (!s->auth && auth_offered(s->tls) ? REPLY_EHLO_AUTH : 0));
}

static enum reply
smtp_addr_reply(enum addr_result r)
{
	switch (r) {
	case ADDR_OK:
	case ADDR_NULL:
		return REPLY_OK;
	case ADDR_TOO_LONG:
		return REPLY_ADDR_TOO_LONG;
	case ADDR_8BIT:
		return REPLY_NEED_UTF8;
	case ADDR_RELAY:
		return REPLY_RELAY_DENIED;
	case ADDR_UNKNOWN:
		return REPLY_UNKNOWN_USER;
	case ADDR_SYNTAX:
		break;
	}
	return REPLY_BAD_ADDR;
}

/* The path after "FROM:" or "TO:", with its brackets: "addr rest" is
 * taken as "<addr> rest" unless NOMX_STRICT_ENVELOPES (many devices
 * leave them out).  0, or -1 when there is no path at all. */
static int
smtp_path(const char **p, size_t *len)
{
	static char buf[NOMX_LINE_MAX + 2];
	size_t n = 0;

	if (*len > 0 && **p == '<') {
		return 0;
	}
	if (NOMX_STRICT_ENVELOPES || *len == 0) {
		return -1;
	}
	while (n < *len && (*p)[n] != ' ') {
		n++;
	}
	buf[0] = '<';
	memcpy(buf + 1, *p, n);
	buf[n + 1] = '>';
	memcpy(buf + n + 2, *p + n, *len - n);
	*p = buf;
	*len += 2;
	return 0;
}

static void
smtp_do_mail(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char *p = c->arg;
	size_t len = c->arg_len, used = 0;
	struct addr_path path;
	enum addr_result r;

	if (s->helo[0] == '\0') {
		smtp_error(s, REPLY_NEED_HELO);
		return;
	}
	if (s->mail) {
		smtp_error(s, REPLY_NESTED_MAIL);
		return;
	}
	if (NOMX_AUTH_REQUIRED && !s->auth) {
		smtp_error(s, REPLY_AUTH_REQUIRED);
		return;
	}
	if (smtp_cmd_path_arg(&p, &len, "FROM:") < 0 || smtp_path(&p, &len) < 0) {
		smtp_error(s, REPLY_MAIL_SYNTAX);
		return;
	}
	/* Find the path's end first: the SMTPUTF8 parameter after it
	 * decides whether non-ASCII is allowed in it. */
	r = addr_parse(p, len, 1, &used, &path);
	if (r != ADDR_OK && r != ADDR_NULL) {
		smtp_error(s, smtp_addr_reply(r));
		return;
	}
	if (used < len && p[used] != ' ') {
		smtp_error(s, REPLY_BAD_ADDR);
		return;
	}
	switch (smtp_cmd_mail_params(p + used, len - used, &s->params)) {
	case SMTP_PARAM_OK:
		break;
	case SMTP_PARAM_SYNTAX:
		smtp_error(s, REPLY_PARAM_SYNTAX);
		return;
	case SMTP_PARAM_UNKNOWN:
		smtp_error(s, REPLY_PARAM_UNKNOWN);
		return;
	}
	if (!s->params.smtputf8 && r == ADDR_OK &&
	    addr_parse(p, len, 0, &used, &path) == ADDR_8BIT) {
		smtp_error(s, REPLY_NEED_UTF8);
		return;
	}
	if (s->params.size > (uint64_t)NOMX_MSG_MAX) {
		smtp_reply(s, REPLY_TOO_BIG);
		return;
	}
	/* The sender is kept, but given only once the spool has room. */
	memcpy(s->from, path.addr, sizeof(s->from));
	smtp_enter(s, SMTP_S_ROOM);
}

void
smtp_room(struct smtp_session *s, int ok)
{
	if (s->state != SMTP_S_ROOM) {
		return;
	}
	smtp_enter(s, SMTP_S_CMD);
	if (!ok) {
		log_warnx("session=%u client=%s spool-full", s->id, s->client_ip);
		s->from[0] = '\0';
		memset(&s->params, 0, sizeof(s->params));
		smtp_reply(s, REPLY_NO_ROOM);
		return;
	}
	s->mail = 1;
	smtp_reply(s, REPLY_MAIL_OK);
}

static void
smtp_do_rcpt(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char *p = c->arg;
	size_t len = c->arg_len, used = 0;
	struct addr_path path;
	enum addr_result r;

	if (!s->mail) {
		smtp_error(s, REPLY_NEED_MAIL);
		return;
	}
	if (smtp_cmd_path_arg(&p, &len, "TO:") < 0 || smtp_path(&p, &len) < 0) {
		smtp_error(s, REPLY_RCPT_SYNTAX);
		return;
	}
	r = addr_rcpt(p, len, s->params.smtputf8, &used, &path);
	if (r == ADDR_OK && used < len && p[used] != ' ') {
		r = ADDR_SYNTAX;
	}
	if (r != ADDR_OK) {
		log_warnx("session=%u client=%s rcpt-refused reason=%s to=%.*s", s->id,
		    s->client_ip, r == ADDR_RELAY ? "relay" : r == ADDR_UNKNOWN ? "unknown" : "syntax",
		    (int)(len > 300 ? 300 : len), p);
		smtp_error(s, smtp_addr_reply(r));
		return;
	}
	if (smtp_cmd_rcpt_params(p + used, len - used) != SMTP_PARAM_OK) {
		smtp_error(s, REPLY_PARAM_UNKNOWN);
		return;
	}
	if (s->nrcpt == NOMX_MAX_RCPT || strlen(path.addr) >= SMTP_RCPT_LEN) {
		if (!s->rcpt_limit_logged) {	/* a flood of RCPTs is one event */
			log_warnx("session=%u client=%s rcpt-limit %s (max %d recipients of %d octets)",
			    s->id, s->client_ip, s->nrcpt == NOMX_MAX_RCPT ? "count" : "length",
			    (int)NOMX_MAX_RCPT, (int)SMTP_RCPT_LEN - 1);
			s->rcpt_limit_logged = 1;
		}
		smtp_reply(s, REPLY_TOO_MANY_RCPT);
		return;
	}
	memcpy(s->rcpt[s->nrcpt], path.addr, strlen(path.addr) + 1);
	s->mbox[s->nrcpt++] = path.mailbox;
	smtp_reply(s, REPLY_RCPT_OK);
}

/* The data sink: stage the bytes, or record why not (sticky). */
static void
smtp_sink(void *ctx, const char *p, size_t n)
{
	struct smtp_session *s = ctx;

	if (s->tx_error != REPLY_OK) {
		return;
	}
	if (s->body.len + n > (size_t)NOMX_MSG_MAX) {
		s->tx_error = REPLY_TOO_BIG;
	} else if (stage_append(&s->body, p, n) < 0) {
		log_warnx("session=%u client=%s staging-full", s->id, s->client_ip);
		s->tx_error = REPLY_NO_ROOM;
	}
	if (s->tx_error != REPLY_OK) {
		stage_reset(&s->body);	/* give the arena back to the others */
	}
}

/* How the content of this client's messages treats a bare LF. */
static enum data_lf
smtp_lf_mode(const struct smtp_session *s)
{
	return s->lf_client ? DATA_LF_LINE_END :
	    NOMX_BARE_LF_NORMALIZE ? DATA_LF_NORMALIZE : DATA_LF_REFUSE;
}

static void
smtp_do_data(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (c->arg_len > 0) {
		smtp_error(s, REPLY_NO_ARG);
	} else if (!s->mail) {
		smtp_error(s, REPLY_NEED_MAIL);
	} else if (s->bdat) {
		smtp_error(s, REPLY_MIXED_BDAT);
	} else if (s->nrcpt == 0) {
		smtp_error(s, REPLY_NEED_RCPT);
	} else {
		data_init(&s->dec, 1, smtp_lf_mode(s));
		smtp_reply(s, REPLY_DATA_GO);
		smtp_enter(s, SMTP_S_DATA);
	}
}

static void
smtp_do_bdat(struct smtp_session *s, const struct smtp_cmd *c)
{
	uint64_t size;
	int last;

	if (smtp_cmd_bdat_args(c->arg, c->arg_len, &size, &last) < 0) {
		/* Without a size we cannot tell data from commands any more. */
		smtp_reply(s, REPLY_BDAT_SYNTAX);
		smtp_enter(s, SMTP_S_CLOSING);
		return;
	}
	if (!s->bdat) {
		data_init(&s->dec, 0, smtp_lf_mode(s));
		s->bdat = 1;
		if (!s->mail) {
			s->tx_error = REPLY_NEED_MAIL;
		} else if (s->nrcpt == 0) {
			s->tx_error = REPLY_NEED_RCPT;
		}
	}
	/* RFC 3030: the chunk is read whatever happens, then answered. */
	s->bdat_left = size;
	s->bdat_size = size;
	s->bdat_last = last;
	smtp_enter(s, SMTP_S_BDAT);
}

static void
smtp_do_starttls(struct smtp_session *s, const struct smtp_cmd *c)
{
	if (c->arg_len > 0) {
		smtp_error(s, REPLY_NO_ARG);
	} else if (s->tls) {
		smtp_error(s, REPLY_TLS_ACTIVE);
	} else if (!NOMX_TLS) {
		smtp_error(s, REPLY_NOT_IMPL);
	} else {
		s->engine = 0;
		smtp_enter(s, SMTP_S_STARTTLS);
	}
}

void
smtp_engine(struct smtp_session *s, int ok)
{
	if (s->state != SMTP_S_STARTTLS || s->engine) {
		return;
	}
	if (!ok) {
		log_warnx("session=%u client=%s starttls-refused: no free TLS session", s->id,
		    s->client_ip);
		smtp_reply(s, REPLY_TLS_BUSY);
		smtp_enter(s, SMTP_S_CMD);
		return;
	}
	s->engine = 1;
	smtp_reply(s, REPLY_STARTTLS_GO);
}

void
smtp_tls_established(struct smtp_session *s, const char *info)
{
	fmt_buf(s->tls_info, sizeof(s->tls_info), "%s", info);
}

void
smtp_tls_started(struct smtp_session *s)
{
	s->engine = 0;
	s->in_len = 0;
	s->discard_line = 0;
	s->helo[0] = '\0';
	s->ehlo = 0;
	s->auth = 0;
	s->tls = 1;
	smtp_reset_tx(s);
	smtp_enter(s, SMTP_S_CMD);
}

/* A user name fit for the log: printable ASCII only. */
static void
smtp_auth_done(struct smtp_session *s, int ok)
{
	for (char *p = s->auth_user; *p != '\0'; p++) {
		if (*p < ' ' || *p > '~') {
			*p = '?';
		}
	}
	if (ok) {
		log_info("session=%u client=%s auth ok user=%s", s->id, s->client_ip, s->auth_user);
		s->auth = 1;
		smtp_reply(s, REPLY_AUTH_OK);
	} else {
		log_warnx("session=%u client=%s auth failed user=%s", s->id, s->client_ip,
		    s->auth_user);
		smtp_error(s, REPLY_AUTH_FAILED);
	}
	s->auth_user[0] = '\0';
}

enum { AUTH_STEP_PLAIN = 1, AUTH_STEP_LOGIN_USER, AUTH_STEP_LOGIN_PASS };

/* One base64 client response for the AUTH exchange in progress. */
static void
smtp_auth_step(struct smtp_session *s, int step, const char *b64, size_t n)
{
	static unsigned char dec[NOMX_LINE_MAX];
	long len = n == 1 && b64[0] == '=' ? 0 : base64_decode(b64, n, dec, sizeof(dec));

	if (s->state == SMTP_S_AUTH) {
		smtp_enter(s, SMTP_S_CMD);
	}
	if (n == 1 && b64[0] == '*') {
		smtp_error(s, REPLY_AUTH_CANCEL);
		return;
	}
	if (len < 0) {
		smtp_error(s, REPLY_AUTH_B64);
		return;
	}
	switch (step) {
	case AUTH_STEP_PLAIN: {
		int r = auth_plain(dec, (size_t)len, s->auth_user, sizeof(s->auth_user));
		if (r < 0) {
			smtp_error(s, REPLY_AUTH_B64);
		} else {
			smtp_auth_done(s, r);
		}
		break;
	}
	case AUTH_STEP_LOGIN_USER:
		if (len == 0 || (size_t)len >= sizeof(s->auth_user) || memchr(dec, 0, (size_t)len)) {
			smtp_error(s, REPLY_AUTH_B64);
			break;
		}
		memcpy(s->auth_user, dec, (size_t)len);
		s->auth_user[len] = '\0';
		smtp_reply(s, REPLY_AUTH_PROMPT, "UGFzc3dvcmQ6");	/* "Password:" */
		s->auth_step = AUTH_STEP_LOGIN_PASS;
		smtp_enter(s, SMTP_S_AUTH);
		break;
	case AUTH_STEP_LOGIN_PASS:
		smtp_auth_done(s, auth_check(s->auth_user, strlen(s->auth_user),
		    (const char *)dec, (size_t)len));
		break;
	}
	memset(dec, 0, sizeof(dec));
}

static void
smtp_do_auth(struct smtp_session *s, const struct smtp_cmd *c)
{
	const char *mech = c->arg, *sp = memchr(c->arg, ' ', c->arg_len);
	size_t mlen = sp ? (size_t)(sp - mech) : c->arg_len;
	const char *init = sp ? sp + 1 : NULL;
	size_t ilen = sp ? c->arg_len - mlen - 1 : 0;
	int plain = ascii_is(mech, mlen, "PLAIN");
	int login = ascii_is(mech, mlen, "LOGIN");

	if (!NOMX_AUTH) {
		smtp_error(s, REPLY_NOT_IMPL);
	} else if (!auth_offered(s->tls)) {
		smtp_error(s, REPLY_AUTH_NEED_TLS);
	} else if (!s->ehlo) {
		smtp_error(s, REPLY_NEED_EHLO);
	} else if (s->auth) {
		smtp_error(s, REPLY_AUTH_TWICE);
	} else if (s->mail) {
		smtp_error(s, REPLY_AUTH_IN_TX);
	} else if (!plain && !login) {
		smtp_error(s, mlen == 0 ? REPLY_NEED_ARG : REPLY_AUTH_MECH);
	} else if (init != NULL) {
		smtp_auth_step(s, plain ? AUTH_STEP_PLAIN : AUTH_STEP_LOGIN_USER, init, ilen);
	} else {
		/* PLAIN: an empty challenge; LOGIN: "Username:". */
		smtp_reply(s, REPLY_AUTH_PROMPT, plain ? "" : "VXNlcm5hbWU6");
		s->auth_step = plain ? AUTH_STEP_PLAIN : AUTH_STEP_LOGIN_USER;
		smtp_enter(s, SMTP_S_AUTH);
	}
}

static void
smtp_command(struct smtp_session *s, const char *line, size_t len)
{
	struct smtp_cmd c;

	for (size_t i = 0; i < len; i++) {
		if (line[i] == '\r' || line[i] == '\0') {
			smtp_error(s, REPLY_BAD_CHAR);
			return;
		}
	}
	smtp_cmd_parse(line, len, &c);
	switch (c.verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
		smtp_do_helo(s, &c);
		break;
	case SMTP_MAIL:
		smtp_do_mail(s, &c);
		break;
	case SMTP_RCPT:
		smtp_do_rcpt(s, &c);
		break;
	case SMTP_DATA:
		smtp_do_data(s, &c);
		break;
	case SMTP_BDAT:
		smtp_do_bdat(s, &c);
		break;
	case SMTP_RSET:
		if (c.arg_len > 0) {
			smtp_error(s, REPLY_NO_ARG);
			break;
		}
		smtp_reset_tx(s);
		smtp_reply(s, REPLY_OK);
		break;
	case SMTP_NOOP:
		smtp_reply(s, REPLY_OK);
		break;
	case SMTP_QUIT:
		smtp_reply(s, REPLY_BYE, smtp_host);
		smtp_enter(s, SMTP_S_CLOSING);
		break;
	case SMTP_VRFY:
		smtp_reply(s, c.arg_len > 0 ? REPLY_VRFY : REPLY_NEED_ARG);
		break;
	case SMTP_HELP:
		smtp_reply(s, REPLY_HELP);
		break;
	case SMTP_STARTTLS:
		smtp_do_starttls(s, &c);
		break;
	case SMTP_AUTH:
		smtp_do_auth(s, &c);
		break;
	case SMTP_EXPN:
		smtp_error(s, REPLY_NOT_IMPL);
		break;
	case SMTP_HTTP:
		log_warnx("session=%u client=%s http-request", s->id, s->client_ip);
		smtp_reply(s, REPLY_HTTP);
		smtp_enter(s, SMTP_S_CLOSING);
		break;
	case SMTP_UNKNOWN:
		smtp_error(s, REPLY_UNKNOWN_CMD);
		break;
	}
}

/* The end of the message: refuse it (sticky error) or ask to store it. */
static void
smtp_end_message(struct smtp_session *s)
{
	if (s->tx_error == REPLY_OK && s->dec.bare_eol) {
		s->tx_error = REPLY_BARE_EOL;
	}
	if (s->tx_error == REPLY_OK && s->dec.received > NOMX_MAX_RECEIVED) {
		s->tx_error = REPLY_LOOP;
	}
	if (s->tx_error != REPLY_OK) {
		log_warnx("session=%u client=%s message-refused reply=\"%s\"", s->id,
		    s->client_ip, reply_text(s->tx_error));
		if (s->tx_error == REPLY_NEED_MAIL || s->tx_error == REPLY_NEED_RCPT) {
			smtp_error(s, s->tx_error);
		} else {
			smtp_reply(s, s->tx_error);
		}
		smtp_reset_tx(s);
		if (s->state != SMTP_S_CLOSING) {
			smtp_enter(s, SMTP_S_CMD);
		}
		return;
	}
	s->stored = 0;
	smtp_enter(s, SMTP_S_COMMIT);
}

void
smtp_stored(struct smtp_session *s, uint64_t seq)
{
	if (s->state == SMTP_S_COMMIT) {
		s->seq = seq;
		s->stored = 1;
	}
}

void
smtp_committed(struct smtp_session *s, enum reply r)
{
	if (s->state != SMTP_S_COMMIT) {
		return;
	}
	if (r == REPLY_QUEUED) {
		log_info("session=%u client=%s accepted seq=%llu from=<%s> rcpts=%zu size=%zu",
		    s->id, s->client_ip, (unsigned long long)s->seq, s->from, s->nrcpt,
		    s->body.len);
		smtp_reply(s, REPLY_QUEUED, (unsigned long long)s->seq);
	} else {
		smtp_reply(s, r);
	}
	smtp_reset_tx(s);
	smtp_enter(s, SMTP_S_CMD);
}

/* A complete command line at in[*off..], or 0 when more input is needed. */
static int
smtp_take_line(struct smtp_session *s, size_t *off)
{
	char *start = s->in + *off;
	char *lf = memchr(start, '\n', s->in_len - *off);
	size_t len;

	if (lf == NULL) {
		if (*off == 0 && s->in_len == sizeof(s->in)) {
			/* Over-long: drop what we have, keep dropping to the LF. */
			s->discard_line = 1;
			*off = s->in_len;
		}
		return 0;
	}
	len = (size_t)(lf - start);
	*off += len + 1;
	if (s->discard_line || len + 1 > NOMX_LINE_MAX) {
		s->discard_line = 0;
		if (s->state == SMTP_S_AUTH) {
			smtp_enter(s, SMTP_S_CMD);	/* the exchange is over */
			s->auth_user[0] = '\0';
		}
		smtp_error(s, REPLY_LINE_TOO_LONG);
		return 1;
	}
	if (len > 0 && start[len - 1] == '\r') {
		len--;
	} else {
		s->lf_client = 1;	/* for the rest of the connection */
	}
	if (s->state == SMTP_S_AUTH) {
		smtp_auth_step(s, s->auth_step, start, len);
	} else {
		smtp_command(s, start, len);
	}
	return 1;
}

static void
smtp_take_bdat(struct smtp_session *s, size_t *off)
{
	size_t n = s->in_len - *off;
	int done;

	if (n > s->bdat_left) {
		n = (size_t)s->bdat_left;
	}
	data_decode(&s->dec, s->in + *off, n, &done, smtp_sink, s);
	*off += n;
	s->bdat_left -= n;
	if (s->bdat_left > 0) {
		return;
	}
	if (s->bdat_last) {
		data_finish(&s->dec, smtp_sink, s);
		smtp_end_message(s);
	} else if (s->tx_error == REPLY_NEED_MAIL || s->tx_error == REPLY_NEED_RCPT) {
		enum reply r = s->tx_error;
		smtp_reset_tx(s);
		smtp_enter(s, SMTP_S_CMD);
		smtp_error(s, r);
	} else {
		smtp_reply(s, REPLY_CHUNK_OK, (unsigned long long)s->bdat_size);
		smtp_enter(s, SMTP_S_CMD);
	}
}

void
smtp_process(struct smtp_session *s)
{
	size_t off = 0;

	if (s->state == SMTP_S_GREET) {
		if (s->in_len > 0) {
			smtp_greet(s, 1);
		}
		return;
	}
	while (sizeof(s->out) - s->out_len >= SMTP_REPLY_MAX) {
		if (s->state == SMTP_S_CMD || s->state == SMTP_S_AUTH) {
			if (!smtp_take_line(s, &off)) {
				break;
			}
		} else if (s->state == SMTP_S_DATA && off < s->in_len) {
			int done;
			off += data_decode(&s->dec, s->in + off, s->in_len - off, &done, smtp_sink, s);
			if (done) {
				smtp_end_message(s);
			}
		} else if (s->state == SMTP_S_BDAT && (off < s->in_len || s->bdat_left == 0)) {
			smtp_take_bdat(s, &off);
		} else {
			break;
		}
	}
	if (off > 0) {
		memmove(s->in, s->in + off, s->in_len - off);
		s->in_len -= off;
	}
}

int
smtp_wants_input(const struct smtp_session *s)
{
	return (s->state == SMTP_S_CMD || s->state == SMTP_S_DATA || s->state == SMTP_S_BDAT ||
	    s->state == SMTP_S_GREET || s->state == SMTP_S_AUTH) && s->in_len < sizeof(s->in) &&
	    sizeof(s->out) - s->out_len >= SMTP_REPLY_MAX;
}

int
smtp_has_work(const struct smtp_session *s)
{
	if (sizeof(s->out) - s->out_len < SMTP_REPLY_MAX) {
		return 0;
	}
	switch (s->state) {
	case SMTP_S_CMD:
	case SMTP_S_AUTH:
		return memchr(s->in, '\n', s->in_len) != NULL || s->in_len == sizeof(s->in);
	case SMTP_S_DATA:
		return s->in_len > 0;
	case SMTP_S_BDAT:
		return s->in_len > 0 || s->bdat_left == 0;
	default:
		return 0;
	}
}

unsigned
smtp_want(const struct smtp_session *s)
{
	switch (s->state) {
	case SMTP_S_ROOM:
		return SMTP_WANT_ROOM;
	case SMTP_S_STARTTLS:
		return !s->engine ? SMTP_WANT_ENGINE : s->out_len == 0 ? SMTP_WANT_TLS : 0;
	case SMTP_S_COMMIT:
		return s->stored ? 0 : SMTP_WANT_COMMIT;
	case SMTP_S_CLOSING:
		return s->out_len == 0 ? SMTP_WANT_CLOSE : 0;
	default:
		return 0;
	}
}

int64_t
smtp_deadline(const struct smtp_session *s)
{
	int64_t t = NOMX_TIMEOUT_CMD;

	switch (s->state) {
	case SMTP_S_GREET:
		return s->greet_at;
	case SMTP_S_COMMIT:
		return -1;
	case SMTP_S_DATA:
	case SMTP_S_BDAT:
		t = NOMX_TIMEOUT_DATA;
		break;
	case SMTP_S_CLOSING:
	case SMTP_S_STARTTLS:
		t = NOMX_TIMEOUT_WRITE;
		break;
	case SMTP_S_CMD:
	case SMTP_S_AUTH:
	case SMTP_S_ROOM:
		t = s->out_len > 0 ? NOMX_TIMEOUT_WRITE : NOMX_TIMEOUT_CMD;
		break;
	}
	if (s->stress && t > NOMX_STRESS_TIMEOUT) {
		t = NOMX_STRESS_TIMEOUT;
	}
	return s->active + t * 1000LL;
}

void
smtp_stress(struct smtp_session *s, int on)
{
	s->stress = on;
}

int
smtp_evictable(const struct smtp_session *s, int64_t now)
{
	if (s->state == SMTP_S_COMMIT || s->state == SMTP_S_ROOM || now - s->active < NOMX_WORKING_MS) {
		return 0;	/* its message is ours to answer, or it is working */
	}
	return s->mail || s->bdat ? 1 : 2;
}

void
smtp_evict(struct smtp_session *s)
{
	log_warnx("session=%u client=%s evicted: idle %s, the slot is needed", s->id, s->client_ip,
	    s->state == SMTP_S_CLOSING ? "while closing" : s->mail ? "in a transaction" :
	    "between commands");
	if (s->state == SMTP_S_CLOSING) {
		return;	/* told already; it did not read that */
	}
	s->out_len = 0;
	smtp_reply(s, REPLY_EVICTED, smtp_host);
	smtp_reset_tx(s);
	smtp_enter(s, SMTP_S_CLOSING);
}

static void
smtp_timeout(struct smtp_session *s)
{
	log_warnx("session=%u client=%s timeout state=%d", s->id, s->client_ip, s->state);
	s->out_len = 0;	/* a client that does not read gets no more */
	smtp_reply(s, REPLY_TIMEOUT, smtp_host);
	smtp_reset_tx(s);
	smtp_enter(s, SMTP_S_CLOSING);
}

int
smtp_expire(struct smtp_session *s, int early_input, int64_t now)
{
	s->active = now;
	if (s->state == SMTP_S_GREET) {
		smtp_greet(s, early_input);
	} else if (s->state == SMTP_S_CLOSING) {
		return -1;
	} else {
		smtp_timeout(s);
	}
	return 0;
}

int
smtp_shutdown(struct smtp_session *s, int force)
{
	if (s->state == SMTP_S_CLOSING) {
		return force ? -1 : 0;
	}
	/* Sessions in the middle of a message may finish it. */
	if (!force && s->state != SMTP_S_CMD && s->state != SMTP_S_GREET &&
	    s->state != SMTP_S_STARTTLS) {
		return 0;
	}
	if (sizeof(s->out) - s->out_len >= SMTP_REPLY_MAX) {
		smtp_reply(s, REPLY_SHUTDOWN, smtp_host);
	}
	smtp_reset_tx(s);
	smtp_enter(s, SMTP_S_CLOSING);
	return 1;
}

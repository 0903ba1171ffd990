/* SPDX-License-Identifier: ISC */
/*
 * Golden dialogues for the pure session core: each
 * tests/unit/sessions/NAME.in is a script of client bytes and events,
 * NAME.ref the transcript it must produce (the script's own lines,
 * every reply line, and every request the session made, with the
 * message it asked to store).  No sockets, no spool, no TLS: the
 * session is driven by session_host.h alone.
 *
 * Script lines:
 *   C: text          the client sends text CRLF
 *   L: text          the client sends text LF (a bare line end)
 *   R: text          raw bytes: \r \n \t \\ and \xHH, nothing added
 *   open [tls] [nostarttls] [ip=A]   a new session (the default: plain,
 *                    STARTTLS offered, client 192.0.2.1)
 *   expire           its deadline passes (greeting, or timeout)
 *   shutdown [force] the server is stopping
 *   room yes|no      how the spool answers MAIL from now on
 *   engine yes|no    whether a TLS engine is free
 *   commit queued|failed|noroom   how storing a message ends
 *   wait N           N ms pass; "deadline" prints the next one
 *   # ...            a comment, copied
 *
 * `session_test -u` rewrites the .ref files from what the core does
 * now: read the diff before committing it.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "message.h"
#include "session_host.h"

#ifndef SESSIONS_DIR
#define SESSIONS_DIR "tests/unit/sessions"
#endif

struct run {
	struct smtp_session s;
	struct session_host h;
	int64_t now;
	char *out;		/* the transcript */
	size_t len, cap;
};

static void
emit(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(r->out + r->len, r->cap - r->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < r->cap - r->len) {
			r->len += (size_t)n;
			return;
		}
		r->cap = r->cap * 2 + (size_t)n + 64;
		if ((r->out = realloc(r->out, r->cap)) == NULL) {
			abort();
		}
	}
}

/* Bytes as a script would write them. */
static void
emit_escaped(struct run *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r') {
			emit(r, "\\r");
		} else if (c == '\n') {
			emit(r, "\\n");
		} else if (c == '\\') {
			emit(r, "\\\\");
		} else if (c < ' ' || c >= 127) {
			emit(r, "\\x%02x", c);
		} else {
			emit(r, "%c", c);
		}
	}
}

/* The message the session asks to store, as the spool would get it. */
static void
note(const struct smtp_session *s, unsigned want, void *ctx)
{
	static struct message msg;
	struct run *r = ctx;
	static struct iovec iov[NOMX_MSG_NBLOCKS];
	size_t n;

	if (want & SMTP_WANT_ROOM) {
		emit(r, "> room for %llu?\n", (unsigned long long)s->params.size);
	} else if (want & SMTP_WANT_ENGINE) {
		emit(r, "> TLS engine?\n");
	} else if (want & SMTP_WANT_COMMIT) {
		message_build(&msg, s, r->h.seq + 1, 0);
		emit(r, "> store flags=%u envelope=%zu bytes body=%zu bytes\n", msg.rec.flags,
		    msg.rec.env_len, s->body.len);
		emit(r, ">   ");
		for (const char *p = msg.rec.received; *p != '\0'; p++) {
			emit(r, *p == '\n' ? "\n>   " : *p == '\r' || *p == '\t' ? "" : "%c", *p);
		}
		emit(r, "body: ");
		n = stage_iov(&s->body, iov, NOMX_MSG_NBLOCKS);
		for (size_t i = 0, shown = 0; i < n && shown < 200; i++) {
			size_t k = iov[i].iov_len < 200 - shown ? iov[i].iov_len : 200 - shown;
			emit_escaped(r, iov[i].iov_base, k);
			shown += k;
		}
		emit(r, "%s\n", s->body.len > 200 ? "..." : "");
	}
}

/* Everything the session has to say, then what it wants of the test. */
static void
drain(struct run *r)
{
	struct smtp_session *s = &r->s;
	const char *p = s->out, *end = s->out + s->out_len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
		int crlf = n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n';
		emit(r, crlf ? "S: " : "S! ");
		emit_escaped(r, p, crlf ? n - 2 : n);
		emit(r, "\n");
		p += n;
	}
	s->out_len = 0;
	if (smtp_want(s) & SMTP_WANT_TLS) {
		emit(r, "> TLS starts\n");
		smtp_tls_started(s);
		smtp_tls_established(s, "TLSv1.3 with cipher TEST");
	}
	if (smtp_want(s) & SMTP_WANT_CLOSE) {
		emit(r, "> close\n");
	}
}

/* Client bytes in, as the connection layer gives them: as much as the
 * input buffer takes, then process, until all are in. */
static void
feed(struct run *r, const char *p, size_t n)
{
	struct smtp_session *s = &r->s;

	for (;;) {
		size_t k = n < sizeof(s->in) - s->in_len ? n : sizeof(s->in) - s->in_len;
		memcpy(s->in + s->in_len, p, k);
		s->in_len += k;
		p += k;
		n -= k;
		session_host_run(s, &r->h);
		drain(r);
		if (n == 0 || (k == 0 && !smtp_has_work(s) && !smtp_wants_input(s))) {
			break;
		}
	}
}

static size_t
unescape(const char *p, char *buf)
{
	size_t n = 0;

	while (*p != '\0') {
		if (p[0] == '\\' && p[1] == 'r') {
			buf[n++] = '\r', p += 2;
		} else if (p[0] == '\\' && p[1] == 'n') {
			buf[n++] = '\n', p += 2;
		} else if (p[0] == '\\' && p[1] == 't') {
			buf[n++] = '\t', p += 2;
		} else if (p[0] == '\\' && p[1] == '\\') {
			buf[n++] = '\\', p += 2;
		} else if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			char hex[3] = { p[2], p[3], 0 };
			buf[n++] = (char)strtol(hex, NULL, 16), p += 4;
		} else {
			buf[n++] = *p++;
		}
	}
	return n;
}

/* One script line; 0, or -1 if it is not understood. */
static int
step(struct run *r, char *line)
{
	static char buf[70000];
	size_t n;

	emit(r, "%s\n", line);
	if (strncmp(line, "C: ", 3) == 0 || strncmp(line, "L: ", 3) == 0) {
		n = strlen(line + 3);
		memcpy(buf, line + 3, n);
		if (line[0] == 'C') {
			buf[n++] = '\r';
		}
		buf[n++] = '\n';
		feed(r, buf, n);
	} else if (strncmp(line, "R: ", 3) == 0) {
		feed(r, buf, unescape(line + 3, buf));
	} else if (strncmp(line, "open", 4) == 0) {
		const char *ip = strstr(line, "ip=");
		smtp_close(&r->s);
		smtp_open(&r->s, 1, ip ? ip + 3 : "192.0.2.1",
		    (strstr(line, " tls") ? SMTP_OPEN_TLS : 0) |
		    (strstr(line, "nostarttls") ? 0 : SMTP_OPEN_STARTTLS), r->now);
		if (strstr(line, " tls")) {
			smtp_tls_established(&r->s, "TLSv1.2 with cipher TEST");
		}
	} else if (strcmp(line, "expire") == 0) {
		if (smtp_expire(&r->s, 0, r->now) < 0) {
			emit(r, "> drop\n");
		}
		session_host_run(&r->s, &r->h);
		drain(r);
	} else if (strncmp(line, "shutdown", 8) == 0) {
		int v = smtp_shutdown(&r->s, strstr(line, "force") != NULL);
		if (v < 0) {
			emit(r, "> drop\n");
		}
		session_host_run(&r->s, &r->h);
		drain(r);
	} else if (strncmp(line, "stress ", 7) == 0) {
		smtp_stress(&r->s, strcmp(line + 7, "on") == 0);
	} else if (strcmp(line, "evict") == 0) {
		/* The host asks whether the slot may go, and takes it if so. */
		int rank = smtp_evictable(&r->s, r->now);
		emit(r, "> evictable %d\n", rank);
		if (rank > 0) {
			smtp_evict(&r->s);
			session_host_run(&r->s, &r->h);
			drain(r);
		}
	} else if (strncmp(line, "room ", 5) == 0) {
		r->h.room = strcmp(line + 5, "yes") == 0;
	} else if (strncmp(line, "engine ", 7) == 0) {
		r->h.engine = strcmp(line + 7, "yes") == 0;
	} else if (strcmp(line, "commit hold") == 0) {
		r->h.hold = 1;
	} else if (strncmp(line, "commit ", 7) == 0) {
		r->h.commit = strcmp(line + 7, "queued") == 0 ? REPLY_QUEUED :
		    strcmp(line + 7, "noroom") == 0 ? REPLY_NO_ROOM : REPLY_STORE_FAILED;
		if (r->h.hold) {
			/* The group commit runs: answer the message held for it. */
			r->h.hold = 0;
			smtp_committed(&r->s, r->h.commit);
			session_host_run(&r->s, &r->h);
			drain(r);
		}
	} else if (strncmp(line, "wait ", 5) == 0) {
		r->now += atoll(line + 5);
	} else if (strcmp(line, "deadline") == 0) {
		int64_t d = smtp_deadline(&r->s);
		if (d < 0) {
			emit(r, "> no deadline\n");
		} else {
			emit(r, "> deadline in %lld ms\n", (long long)(d - r->now));
		}
	} else if (line[0] != '#' && line[0] != '\0') {
		return -1;
	}
	return 0;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL) {
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		abort();
	}
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Run one script; 0 if its transcript is the reference. */
static int
run_script(const char *name, int update)
{
	static struct run r;
	char path[512], *script, *line, *save = NULL;
	size_t len, ref_len = 0;
	char *ref;
	int bad = 0;

	snprintf(path, sizeof(path), "%s/%s.in", SESSIONS_DIR, name);
	if ((script = slurp(path, &len)) == NULL) {
		printf("#   cannot read %s\n", path);
		return -1;
	}
	smtp_close(&r.s);
	memset(&r.s, 0, sizeof(r.s));
	r.h = (struct session_host){ 1, 1, REPLY_QUEUED, 0, note, &r, 0 };
	r.now = 1000;
	r.len = 0;
	emit(&r, "");
	smtp_open(&r.s, 1, "192.0.2.1", SMTP_OPEN_STARTTLS, r.now);
	for (line = strtok_r(script, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (step(&r, line) < 0) {
			printf("#   %s: cannot read the line \"%s\"\n", path, line);
			bad = 1;
		}
	}
	free(script);
	snprintf(path, sizeof(path), "%s/%s.ref", SESSIONS_DIR, name);
	if (update) {
		FILE *f = fopen(path, "wb");
		if (f == NULL || fwrite(r.out, 1, r.len, f) != r.len || fclose(f) != 0) {
			return -1;
		}
		return bad ? -1 : 0;
	}
	ref = slurp(path, &ref_len);
	if (ref == NULL || ref_len != r.len || memcmp(ref, r.out, r.len) != 0) {
		/* Show the first line where they part. */
		size_t i = 0, row = 1, start = 0;
		while (ref && i < ref_len && i < r.len && ref[i] == r.out[i]) {
			if (ref[i++] == '\n') {
				row++;
				start = i;
			}
		}
		printf("#   %s line %zu:\n#   expected: %.*s\n#   got:      %.*s\n", path, row,
		    ref ? (int)strcspn(ref + start, "\n") : 0, ref ? ref + start : "",
		    (int)strcspn(r.out + start, "\n"), r.out + start);
		bad = 1;
	}
	free(ref);
	return bad ? -1 : 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
	char *names[256];
	size_t n = 0;
	int update = argc > 1 && strcmp(argv[1], "-u") == 0, failed = 0;
	DIR *d = opendir(SESSIONS_DIR);
	struct dirent *e;

	setvbuf(stdout, NULL, _IOLBF, 0);
	log_open(0);	/* the session's log lines go to stderr, not into the dialogue */
	if (d == NULL) {
		printf("1..1\nnot ok - session_test: cannot open %s\n", SESSIONS_DIR);
		return 1;
	}
	while ((e = readdir(d)) != NULL && n < 256) {
		size_t len = strlen(e->d_name);
		if (len > 3 && strcmp(e->d_name + len - 3, ".in") == 0) {
			names[n] = strndup(e->d_name, len - 3);
			n++;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		int bad = run_script(names[i], update);
		printf("%s - %s\n", bad ? "not ok" : "ok", names[i]);
		failed |= bad;
		free(names[i]);
	}
	return failed ? 1 : 0;
}

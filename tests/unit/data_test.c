/* SPDX-License-Identifier: ISC */
/*
 * The DATA/BDAT decoder: end of data, dot-unstuffing, and every SMTP
 * smuggling variant (none of them may end the data).
 */
#include "check.h"
#include "data.h"

struct sink {
	char buf[4096];
	size_t len;
};

static void
sink_fn(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	if (s->len + n <= sizeof(s->buf)) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
}

/* Feed in[] to a DATA decoder in pieces of `step` bytes; returns the
 * offset just past the end of data, or -1 if it never ended. */
static long
feed_lf(struct data_dec *d, struct sink *s, const char *in, size_t len, size_t step,
    enum data_lf lf)
{
	size_t off = 0;

	data_init(d, 1, lf);
	memset(s, 0, sizeof(*s));
	while (off < len) {
		size_t n = len - off < step ? len - off : step;
		int done;
		size_t used = data_decode(d, in + off, n, &done, sink_fn, s);
		off += used;
		if (done) {
			return (long)off;
		}
	}
	return -1;
}

/* As a CRLF client's DATA, bare LFs refused. */
static long
feed(struct data_dec *d, struct sink *s, const char *in, size_t len, size_t step)
{
	return feed_lf(d, s, in, len, step, DATA_LF_REFUSE);
}

static void
end_of_data(void)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n";
	struct data_dec d;
	struct sink s;

	for (size_t step = 1; step <= sizeof(msg); step++) {
		long end = feed(&d, &s, msg, sizeof(msg) - 1, step);
		CHECK(end == (long)strlen("Subject: x\r\n\r\nbody\r\n.\r\n"), "step %zu: end %ld", step, end);
		CHECK(s.len == 20 && memcmp(s.buf, "Subject: x\r\n\r\nbody\r\n", 20) == 0,
		    "step %zu: content %.*s", step, (int)s.len, s.buf);
		CHECK(!d.bare_eol, "step %zu: bare_eol", step);
	}
}

static void
empty_message(void)
{
	struct data_dec d;
	struct sink s;

	CHECK_INT(feed(&d, &s, ".\r\n", 3, 3), 3);
	CHECK_INT(s.len, 0);
}

static void
dot_unstuffing(void)
{
	static const char msg[] = "..leading\r\n...\r\n.x\r\nmid.dle\r\n.\r\n";
	static const char want[] = ".leading\r\n..\r\nx\r\nmid.dle\r\n";
	struct data_dec d;
	struct sink s;

	for (size_t step = 1; step <= 8; step++) {
		CHECK_INT(feed(&d, &s, msg, sizeof(msg) - 1, step), sizeof(msg) - 1);
		CHECK(s.len == sizeof(want) - 1 && memcmp(s.buf, want, s.len) == 0,
		    "step %zu: got %.*s", step, (int)s.len, s.buf);
	}
}

/* Every smuggling end-of-data variant: never an end, always bare_eol. */
static void
smuggling_variants(void)
{
	static const char *const variants[] = {
		"a\n.\nMAIL FROM:<x@y>\r\n",
		"a\r.\rMAIL FROM:<x@y>\r\n",
		"a\r.\nMAIL FROM:<x@y>\r\n",
		"a\n.\r\nMAIL FROM:<x@y>\r\n",
		"a\r\n.\rMAIL FROM:<x@y>\r\n",
		"a\r\n.\nMAIL FROM:<x@y>\r\n",
		"a\r.\r\nMAIL FROM:<x@y>\r\n",
		"a\r\r\n.\r\n",
		"bare\rCR\r\n",
		"bare\nLF\r\n",
	};
	struct data_dec d;
	struct sink s;

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		char msg[256];
		size_t n = (size_t)snprintf(msg, sizeof(msg), "%s", variants[i]);
		for (size_t step = 1; step <= 4; step++) {
			long end = feed(&d, &s, msg, n, step);
			/* "a\r\r\n.\r\n" does end (the last 5 bytes are a real
			 * CRLF.CRLF) but is bare: refused at the end. */
			if (i == 7) {
				CHECK(end == (long)n, "variant %zu: end %ld", i, end);
			} else {
				CHECK(end == -1, "variant %zu step %zu ended data at %ld", i, step, end);
			}
			CHECK(d.bare_eol, "variant %zu step %zu: bare CR/LF not flagged", i, step);
		}
	}
}

static void
received_counting(void)
{
	static const char msg[] = "Received: a\r\nreceived:b\r\nX-Received: c\r\n"
	    " Received: folded\r\nRECEIVED: d\r\n\r\nReceived: in body\r\n.\r\n";
	struct data_dec d;
	struct sink s;

	for (size_t step = 1; step <= 5; step++) {
		feed(&d, &s, msg, sizeof(msg) - 1, step);
		CHECK(d.received == 3, "step %zu: received %u", step, d.received);
	}
}

static void
bdat_raw(void)
{
	static const char chunk1[] = "Subject: x\r\n\r\n.dot stays\r";
	static const char chunk2[] = "\n.\r\nend\r\n";
	struct data_dec d;
	struct sink s = { .len = 0 };
	int done;

	data_init(&d, 0, DATA_LF_REFUSE);
	CHECK_INT(data_decode(&d, chunk1, sizeof(chunk1) - 1, &done, sink_fn, &s), sizeof(chunk1) - 1);
	CHECK_INT(done, 0);
	CHECK_INT(data_decode(&d, chunk2, sizeof(chunk2) - 1, &done, sink_fn, &s), sizeof(chunk2) - 1);
	CHECK_INT(done, 0);
	data_finish(&d, sink_fn, &s);
	CHECK_INT(d.bare_eol, 0);
	CHECK(s.len == 34 && memcmp(s.buf, "Subject: x\r\n\r\n.dot stays\r\n.\r\nend\r\n", 34) == 0,
	    "got %.*s", (int)s.len, s.buf);

	/* A CR left at the very end of the message is bare. */
	data_init(&d, 0, DATA_LF_REFUSE);
	data_decode(&d, "x\r", 2, &done, sink_fn, &s);
	data_finish(&d, sink_fn, &s);
	CHECK_INT(d.bare_eol, 1);
}

/* An LF client: a bare LF ends a line, every LF/CRLF mix of the end
 * marker ends the data, and what is stored has CRLF line ends. */
static void
lf_client(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "Subject: x\n\nline\n..dot\n.\nQUIT\n", "Subject: x\r\n\r\nline\r\n.dot\r\n" },
		{ "a\r\n.\nQUIT\n", "a\r\n" },
		{ "a\n.\r\nQUIT\n", "a\r\n" },
		{ "mixed\r\nends\n\r\n.\n", "mixed\r\nends\r\n\r\n" },
		{ ".\n", "" },
	};
	struct data_dec d;
	struct sink s;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = strlen(cases[i].in), want = strlen(cases[i].want);
		const char *end = strstr(cases[i].in, "QUIT");
		for (size_t step = 1; step <= 5; step++) {
			long got = feed_lf(&d, &s, cases[i].in, n, step, DATA_LF_LINE_END);
			CHECK(got == (long)(end ? (size_t)(end - cases[i].in) : n),
			    "case %zu step %zu: end %ld", i, step, got);
			CHECK(s.len == want && memcmp(s.buf, cases[i].want, want) == 0,
			    "case %zu step %zu: stored %.*s", i, step, (int)s.len, s.buf);
			CHECK(!d.bare_eol, "case %zu: flagged bare", i);
		}
	}
	/* A bare CR is still refused from an LF client. */
	feed_lf(&d, &s, "bare\rCR\n.\n", strlen("bare\rCR\n.\n"), 3, DATA_LF_LINE_END);
	CHECK(d.bare_eol, "an LF client's bare CR was not flagged");
}

/* A CRLF client whose bare LFs are stored as CRLF: still no variant
 * ends the data, and the LF-only ones are no longer refused. */
static void
crlf_client_normalized(void)
{
	static const char msg[] = "a\n.\nMAIL FROM:<x@y>\r\n.\r\n";
	static const char want[] = "a\r\n.\r\nMAIL FROM:<x@y>\r\n";
	struct data_dec d;
	struct sink s;

	for (size_t step = 1; step <= 4; step++) {
		long end = feed_lf(&d, &s, msg, sizeof(msg) - 1, step, DATA_LF_NORMALIZE);
		CHECK(end == (long)sizeof(msg) - 1, "step %zu: ended at %ld", step, end);
		CHECK(s.len == sizeof(want) - 1 && memcmp(s.buf, want, s.len) == 0,
		    "step %zu: stored %.*s", step, (int)s.len, s.buf);
		CHECK(!d.bare_eol, "step %zu: flagged bare", step);
	}
	feed_lf(&d, &s, "a\r.\r\n.\r\n", strlen("a\r.\r\n.\r\n"), 2, DATA_LF_NORMALIZE);
	CHECK(d.bare_eol, "a bare CR was not flagged");
}

CHECK_MAIN(CASE(end_of_data), CASE(empty_message), CASE(dot_unstuffing),
    CASE(smuggling_variants), CASE(received_counting), CASE(bdat_raw), CASE(lf_client),
    CASE(crlf_client_normalized))

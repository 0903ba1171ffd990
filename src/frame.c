/* SPDX-License-Identifier: ISC */
/*
 * The export stream's lines, encoded on the device and decoded by
 * `nomx fetch`: every line carries a CRC-32C over itself, so a line a
 * console mangled is caught and anything not ours is skipped (the
 * format is in frame.h).
 */
#include <string.h>

#include "base64.h"
#include "crc32c.h"
#include "fmt.h"
#include "frame.h"

size_t
frame_seal(char *buf, size_t len)
{
	uint32_t crc = crc32c(0, buf, len);

	return len + (size_t)fmt_buf(buf + len, 13, " *%08x\n", crc);
}

/* The last occurrence of the tag: a prompt or noise may precede it. */
static const char *
frame_find(const char *p, size_t len)
{
	const char *found = NULL;
	size_t tl = sizeof(FRAME_TAG) - 1;

	for (size_t i = 0; i + tl <= len; i++) {
		if (p[i] == '@' && memcmp(p + i, FRAME_TAG, tl) == 0) {
			found = p + i;
		}
	}
	return found;
}

/* Read an unsigned decimal at *p (advancing); -1 if none. */
static int
frame_num(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	if (s == end || *s < '0' || *s > '9') {
		return -1;
	}
	while (s < end && *s >= '0' && *s <= '9') {
		if (*v > (UINT64_MAX - 9) / 10) {
			return -1;
		}
		*v = *v * 10 + (uint64_t)(*s++ - '0');
	}
	*p = s;
	return 0;
}

/* Expect a literal at *p. */
static int
frame_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0) {
		return -1;
	}
	*p += n;
	return 0;
}

/* " key=<number>" */
static int
frame_kv(const char **p, const char *end, const char *key, uint64_t *v)
{
	return frame_lit(p, end, " ") < 0 || frame_lit(p, end, key) < 0 ||
	    frame_lit(p, end, "=") < 0 || frame_num(p, end, v) < 0 ? -1 : 0;
}

/* " key=<word>" into out (NUL-ended), word from [A-Za-z0-9-]. */
static int
frame_word(const char **p, const char *end, const char *key, char *out, size_t cap)
{
	size_t n = 0;

	if (frame_lit(p, end, " ") < 0 || frame_lit(p, end, key) < 0 || frame_lit(p, end, "=") < 0) {
		return -1;
	}
	while (*p < end && n + 1 < cap && ((**p >= 'a' && **p <= 'z') || (**p >= '0' && **p <= '9') ||
	    (**p >= 'A' && **p <= 'Z') || **p == '-')) {
		out[n++] = *(*p)++;
	}
	out[n] = '\0';
	return n == 0 || (*p < end && **p != ' ') ? -1 : 0;
}

static int
frame_hex32(const char **p, const char *end, uint32_t *v)
{
	*v = 0;
	if (end - *p < 8) {
		return -1;
	}
	for (int i = 0; i < 8; i++) {
		char c = *(*p)++;
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0) {
			return -1;
		}
		*v = *v << 4 | (uint32_t)d;
	}
	return 0;
}

static int
frame_fields(const char *p, const char *end, struct frame *f)
{
	uint64_t v, u;

	if (frame_lit(&p, end, "BEGIN v1") == 0) {
		f->type = FRAME_BEGIN;
		if (frame_word(&p, end, "dev", f->dev, sizeof(f->dev)) < 0 ||
		    frame_word(&p, end, "sess", f->token, sizeof(f->token)) < 0 ||
		    frame_kv(&p, end, "from", &f->seq) < 0 || frame_kv(&p, end, "last", &f->last) < 0 ||
		    frame_kv(&p, end, "n", &f->n) < 0) {
			return -1;
		}
	} else if (frame_lit(&p, end, "MSG ") == 0) {
		f->type = FRAME_MSG;
		if (frame_num(&p, end, &f->seq) < 0 || frame_kv(&p, end, "env", &v) < 0 ||
		    frame_kv(&p, end, "body", &u) < 0 || v > UINT32_MAX || u > UINT32_MAX ||
		    frame_lit(&p, end, " crc=") < 0 || frame_hex32(&p, end, &f->crc) < 0 ||
		    frame_kv(&p, end, "t", &f->t_ms) < 0) {
			return -1;
		}
		f->env_len = (uint32_t)v;
		f->body_len = (uint32_t)u;
	} else if (frame_lit(&p, end, "D ") == 0) {
		long n;
		f->type = FRAME_D;
		if (frame_num(&p, end, &f->seq) < 0 || frame_lit(&p, end, " ") < 0 ||
		    frame_num(&p, end, &f->n) < 0 || frame_lit(&p, end, " ") < 0) {
			return -1;
		}
		n = base64_decode(p, (size_t)(end - p), f->data, sizeof(f->data));
		if (n <= 0) {
			return -1;
		}
		f->data_len = (size_t)n;
		p = end;
	} else if (frame_lit(&p, end, "EOM ") == 0) {
		f->type = FRAME_EOM;
		if (frame_num(&p, end, &f->seq) < 0 || frame_kv(&p, end, "lines", &f->n) < 0) {
			return -1;
		}
	} else if (frame_lit(&p, end, "END") == 0) {
		f->type = FRAME_END;
		if (frame_kv(&p, end, "last", &f->last) < 0 || frame_kv(&p, end, "n", &f->n) < 0) {
			return -1;
		}
	} else if (frame_lit(&p, end, "ALIVE") == 0) {
		f->type = FRAME_ALIVE;
		if (frame_kv(&p, end, "last", &f->last) < 0) {
			return -1;
		}
	} else if (frame_lit(&p, end, "ACKED ") == 0) {
		f->type = FRAME_ACKED;
		if (frame_num(&p, end, &f->seq) < 0) {
			return -1;
		}
	} else if (frame_lit(&p, end, "NAK ") == 0) {
		size_t n = (size_t)(end - p);
		f->type = FRAME_NAK;
		if (n >= sizeof(f->reason)) {
			n = sizeof(f->reason) - 1;
		}
		memcpy(f->reason, p, n);
		f->reason[n] = '\0';
		p = end;
	} else {
		return -1;
	}
	return p == end ? 0 : -1;
}

int
frame_parse(const char *line, size_t len, struct frame *f)
{
	const char *start = frame_find(line, len), *end = line + len, *star;
	uint32_t crc;

	if (start == NULL) {
		return 0;
	}
	while (end > start && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ')) {
		end--;
	}
	/* " *xxxxxxxx" closes every line. */
	if (end - start < 10 + (long)sizeof(FRAME_TAG) || end[-10] != ' ' || end[-9] != '*') {
		return -1;
	}
	star = end - 8;
	if (frame_hex32(&star, end, &crc) < 0 || crc != crc32c(0, start, (size_t)(end - 10 - start))) {
		return -1;
	}
	memset(f, 0, sizeof(*f));
	return frame_fields(start + sizeof(FRAME_TAG) - 1, end - 10, f) < 0 ? -1 : 1;
}

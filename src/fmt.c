/* SPDX-License-Identifier: ISC */
#include "fmt.h"
#include "number.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Where formatted text goes: a buffer, drained to fd when it fills
 * (fd -1: a caller's buffer, which keeps its first cap bytes). */
struct sink {
	char *buf;
	size_t cap, len;
	size_t total;		/* all bytes produced, kept or not */
	int fd;
	int failed;
};

static void
sink_drain(struct sink *s)
{
	size_t done = 0;

	while (done < s->len && !s->failed) {
		ssize_t w = write(s->fd, s->buf + done, s->len - done);
		if (w > 0) {
			done += (size_t)w;
		} else if (w < 0 && errno != EINTR) {
			s->failed = 1;
		}
	}
	s->len = 0;
}

static void
sink_put(struct sink *s, const char *p, size_t n)
{
	s->total += n;
	while (n > 0) {
		size_t k;
		if (s->len == s->cap) {
			if (s->fd < 0) {
				return;
			}
			sink_drain(s);
		}
		k = s->cap - s->len < n ? s->cap - s->len : n;
		memcpy(s->buf + s->len, p, k);
		s->len += k;
		p += k;
		n -= k;
	}
}

static void
sink_pad(struct sink *s, char c, size_t n)
{
	static const char spaces[] = "                ", zeros[] = "0000000000000000";
	const char *run = c == '0' ? zeros : spaces;

	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		sink_put(s, run, k);
		n -= k;
	}
}

/* One conversion's text (sign, digits or string) in its field. */
static void
sink_field(struct sink *s, const char *sign, const char *text, size_t len, size_t width, int left,
    int zero)
{
	size_t have = strlen(sign) + len, pad = width > have ? width - have : 0;

	if (!left && !zero) {
		sink_pad(s, ' ', pad);
	}
	sink_put(s, sign, strlen(sign));
	if (!left && zero) {
		sink_pad(s, '0', pad);
	}
	sink_put(s, text, len);
	if (left) {
		sink_pad(s, ' ', pad);
	}
}

/* Digits of v in base (8, 10, 16) at the end of buf[24]; their start. */
static char *
digits(char *end, uint64_t v, unsigned base, int upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = set[number_div(&v, base)];
	} while (v != 0);
	return end;
}

static size_t
sink_vformat(struct sink *s, const char *f, va_list ap)
{
	while (*f != '\0') {
		const char *pct = strchr(f, '%');
		size_t width = 0, prec = (size_t)-1;
		int left = 0, zero = 0, size = 0;
		char num[24], *end = num + sizeof(num), *p;

		if (pct == NULL) {
			sink_put(s, f, strlen(f));
			break;
		}
		sink_put(s, f, (size_t)(pct - f));
		f = pct + 1;
		for (;; f++) {
			if (*f == '-') {
				left = 1;
			} else if (*f == '0') {
				zero = 1;
			} else {
				break;
			}
		}
		if (*f == '*') {
			int w = va_arg(ap, int);
			left |= w < 0;
			width = w < 0 ? -(size_t)w : (size_t)w;
			f++;
		}
		for (; *f >= '0' && *f <= '9'; f++) {
			width = width * 10 + (size_t)(*f - '0');
		}
		if (*f == '.') {
			prec = 0;
			if (*++f == '*') {
				int pr = va_arg(ap, int);
				prec = pr < 0 ? (size_t)-1 : (size_t)pr;
				f++;
			}
			for (; *f >= '0' && *f <= '9'; f++) {
				prec = prec * 10 + (size_t)(*f - '0');
			}
		}
		for (; *f == 'l' || *f == 'z'; f++) {
			size = *f == 'z' ? 3 : size + 1;
		}
		zero &= !left;
		switch (*f) {
		case 's': {
			const char *str = va_arg(ap, const char *);
			size_t len = 0;
			str = str != NULL ? str : "(null)";
			while (len < prec && str[len] != '\0') {
				len++;
			}
			sink_field(s, "", str, len, width, left, 0);
			break;
		}
		case 'c':
			num[0] = (char)va_arg(ap, int);
			sink_field(s, "", num, 1, width, left, 0);
			break;
		case 'd':
		case 'i': {
			long long v = size == 0 ? va_arg(ap, int) : size == 1 ? va_arg(ap, long) :
			    size == 2 ? va_arg(ap, long long) : (long long)va_arg(ap, ssize_t);
			unsigned long long m = v < 0 ? -(unsigned long long)v : (unsigned long long)v;
			p = digits(end, m, 10, 0);
			sink_field(s, v < 0 ? "-" : "", p, (size_t)(end - p), width, left, zero);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			unsigned long long v = size == 0 ? va_arg(ap, unsigned) :
			    size == 1 ? va_arg(ap, unsigned long) :
			    size == 2 ? va_arg(ap, unsigned long long) : va_arg(ap, size_t);
			p = digits(end, v, *f == 'o' ? 8 : *f == 'u' ? 10 : 16, *f == 'X');
			sink_field(s, "", p, (size_t)(end - p), width, left, zero);
			break;
		}
		case '%':
			sink_put(s, "%", 1);
			break;
		default:	/* not in the subset: shown as written */
			if (*f == '\0') {
				f--;
			}
			sink_put(s, pct, (size_t)(f + 1 - pct));
			break;
		}
		f++;
	}
	return s->total;
}

int
fmt_vbuf(char *buf, size_t cap, const char *f, va_list ap)
{
	struct sink s = { buf, cap > 0 ? cap - 1 : 0, 0, 0, -1, 0 };
	size_t n = sink_vformat(&s, f, ap);

	if (cap > 0) {
		buf[s.len] = '\0';
	}
	return n > 0x7fffffff ? 0x7fffffff : (int)n;
}

int
fmt_buf(char *buf, size_t cap, const char *f, ...)
{
	va_list ap;
	int n;

	va_start(ap, f);
	n = fmt_vbuf(buf, cap, f, ap);
	va_end(ap);
	return n;
}

static char out_buf[4096];
static struct sink out = { out_buf, sizeof(out_buf), 0, 0, 1, 0 };

void
fmt_out(const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	sink_vformat(&out, f, ap);
	va_end(ap);
}

void
fmt_put(const void *p, size_t n)
{
	sink_put(&out, p, n);
}

int
fmt_flush(void)
{
	sink_drain(&out);
	return out.failed ? -1 : 0;
}

void
fmt_err(const char *f, ...)
{
	char buf[512];
	struct sink s = { buf, sizeof(buf), 0, 0, 2, 0 };
	va_list ap;

	va_start(ap, f);
	sink_vformat(&s, f, ap);
	va_end(ap);
	sink_drain(&s);
}

/* SPDX-License-Identifier: ISC */
/*
 * Small text helpers, one copy each: ASCII case (SMTP's verbs,
 * keywords and domains are case-insensitive in ASCII, whatever the C
 * locale says) and lowercase hex.  Inline, so the pure session core
 * links nothing for them.
 */
#ifndef NOMX_TEXT_H
#define NOMX_TEXT_H

#include <stddef.h>

static inline int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Are a[0..n) and b[0..n) equal, ignoring ASCII case? */
static inline int
ascii_same(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i])) {
			return 0;
		}
	}
	return 1;
}

/* Is p[0..n) the NUL-ended word, ignoring ASCII case? */
static inline int
ascii_is(const char *p, size_t n, const char *word)
{
	size_t i = 0;

	while (i < n && word[i] != '\0' && ascii_lower((unsigned char)p[i]) ==
	    ascii_lower((unsigned char)word[i])) {
		i++;
	}
	return i == n && word[i] == '\0';
}

/* Does p[0..n) begin with the NUL-ended word, ignoring ASCII case? */
static inline int
ascii_prefix(const char *p, size_t n, const char *word)
{
	size_t k = 0;

	while (word[k] != '\0') {
		k++;
	}
	return n >= k && ascii_same(p, word, k);
}

/* n bytes as 2n lowercase hex digits and a NUL into out. */
static inline void
hex_put(char *out, const unsigned char *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif

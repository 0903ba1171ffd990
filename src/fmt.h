/* SPDX-License-Identifier: ISC */
/*
 * A small formatter for nomx's own text, in place of the C library's
 * printf family: musl's vfprintf, with its floating-point and
 * wide-character code, is 11 KiB of a 128 KiB router binary.
 *
 * The subset nomx uses, with printf's meaning: the conversions s c d i
 * u x X o and %%; the flags '-' and '0'; a width and, for strings only,
 * a precision (digits or '*'); the sizes l, ll and z.  Nothing else
 * (no floating point).  The compiler checks every call as it would a
 * printf, and tests/fuzz/fmt_fuzz.c checks the output against the C
 * library's snprintf.
 */
#ifndef NOMX_FMT_H
#define NOMX_FMT_H

#include <stdarg.h>
#include <stddef.h>

#define FMT_CHECKED(f, args) __attribute__((format(printf, f, args)))

/* snprintf's contract: at most cap bytes, the last a NUL when cap > 0;
 * returns the length of the whole output, as if cap were unlimited. */
int fmt_buf(char *buf, size_t cap, const char *f, ...) FMT_CHECKED(3, 4);
int fmt_vbuf(char *buf, size_t cap, const char *f, va_list ap) FMT_CHECKED(3, 0);

/* Standard output, kept in a buffer until it is full or fmt_flush()
 * (main() and log_die() call it before they end the program: an
 * atexit() would bring musl's malloc along). */
void fmt_out(const char *f, ...) FMT_CHECKED(1, 2);
void fmt_put(const void *p, size_t n);
/* 0, or -1 if a write to standard output has failed (it stays so). */
int fmt_flush(void);

/* Standard error, written at once (one write for a line that fits in
 * 512 bytes, so lines from several processes do not mix). */
void fmt_err(const char *f, ...) FMT_CHECKED(1, 2);

#endif

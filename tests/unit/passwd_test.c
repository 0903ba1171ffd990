/* SPDX-License-Identifier: ISC */
/*
 * passwd_lookup on written files: the user found on any line, a name
 * that is only a prefix not taken, bad ids skipped, a line longer than
 * the reader's buffer skipped whole, and a last line without newline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "passwd.h"

static char path[256];

static void
write_file(const char *text, size_t pad)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/nomx-passwd-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	    (int)getpid());
	f = fopen(path, "w");
	for (size_t i = 0; i < pad; i++) {
		fputc(i + 1 == pad ? '\n' : 'x', f);	/* one over-long line first */
	}
	fputs(text, f);
	fclose(f);
}

static void
found_and_not(void)
{
	struct passwd_ids ids = { 0, 0 };

	write_file("root:x:0:0:root:/root:/bin/sh\nnob:x:7:7::/:/bin/false\n"
	    "nobody:x:65534:65533:nobody:/nonexistent:/usr/sbin/nologin\n"
	    "bad:x:-1:5::/:\nbad2:x:12a:5::/:\nmail:x:8:12:mail:/var/mail:/bin/false", 0);
	CHECK_INT(passwd_lookup(path, "nobody", &ids), 0);
	CHECK_INT(ids.uid, 65534);
	CHECK_INT(ids.gid, 65533);
	CHECK_INT(passwd_lookup(path, "nob", &ids), 0);
	CHECK_INT(ids.uid, 7);
	CHECK_INT(passwd_lookup(path, "mail", &ids), 0);	/* no final newline */
	CHECK_INT(ids.gid, 12);
	CHECK_INT(passwd_lookup(path, "nobod", &ids), -1);
	CHECK_INT(errno, ENOENT);
	CHECK_INT(passwd_lookup(path, "bad", &ids), -1);
	CHECK_INT(passwd_lookup(path, "bad2", &ids), -1);
	CHECK_INT(passwd_lookup("/nonexistent/passwd", "root", &ids), -1);
	CHECK_INT(errno, ENOENT);
	unlink(path);
}

static void
long_lines_skipped(void)
{
	struct passwd_ids ids = { 0, 0 };

	/* Over-long lines of several lengths around the 1 KiB buffer, the
	 * last one crafted to look like "nobody:..." after the cut. */
	for (size_t pad = 1000; pad < 3200; pad += 97) {
		write_file("nobody:x:1:2::/:\n", pad);
		CHECK_INT(passwd_lookup(path, "nobody", &ids), 0);
		CHECK_INT(ids.uid, 1);
	}
	{
		FILE *f = fopen(path, "w");	/* path: as written above */
		for (int i = 0; i < 1030; i++) {
			fputc('y', f);
		}
		fputs("nobody:x:3:3::/:\n", f);	/* part of a long line: not a user */
		fclose(f);
	}
	CHECK_INT(passwd_lookup(path, "nobody", &ids), -1);
	unlink(path);
}

CHECK_MAIN(CASE(found_and_not), CASE(long_lines_skipped))

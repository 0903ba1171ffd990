/* SPDX-License-Identifier: ISC */
/*
 * Looking up the run user in /etc/passwd by hand: one pass over the
 * file with a fixed buffer, no stdio and no allocation (see passwd.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "number.h"
#include "passwd.h"

/* "name:password:uid:gid:..." with decimal ids; 1 if it is name's. */
static int
passwd_line(const char *line, const char *name, struct passwd_ids *ids)
{
	size_t n = strlen(name);
	const char *p, *end;
	uint64_t v[2];

	if (strncmp(line, name, n) != 0 || line[n] != ':' || (p = strchr(line + n + 1, ':')) == NULL) {
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		if (number_parse(p + 1, 10, &v[i], &end) < 0 || *end != ':' || v[i] > 0xffffffffU) {
			return 0;
		}
		p = end;
	}
	ids->uid = (unsigned)v[0];
	ids->gid = (unsigned)v[1];
	return 1;
}

int
passwd_lookup(const char *path, const char *name, struct passwd_ids *ids)
{
	static char buf[1024];
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0, skipping = 0;

	if (fd < 0) {
		return -1;
	}
	for (;;) {
		ssize_t r = read(fd, buf + have, sizeof(buf) - 1 - have);
		size_t start = 0;
		char *nl;

		if (r < 0) {
			err = errno;
			break;
		}
		have += (size_t)r;
		if (r == 0 && have > 0 && buf[have - 1] != '\n') {
			buf[have++] = '\n';	/* a last line without one (room: -1 above) */
		}
		for (; (nl = memchr(buf + start, '\n', have - start)) != NULL; start = (size_t)(nl - buf) + 1) {
			*nl = '\0';
			if (!skipping && passwd_line(buf + start, name, ids)) {
				close(fd);
				return 0;
			}
			skipping = 0;
		}
		if (r == 0) {
			break;
		}
		if (start == 0 && have == sizeof(buf) - 1) {
			skipping = 1;	/* a line longer than buf: not one of ours */
			have = 0;
			continue;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
	}
	close(fd);
	errno = err != 0 ? err : ENOENT;
	return -1;
}

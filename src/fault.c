/* SPDX-License-Identifier: ISC */
/* Test-build fault injection; see fault.h.  Empty in release builds. */
#include "fault.h"

#if NOMX_TEST
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

int
fault_hit(const char *what)
{
	static unsigned calls[2];
	const char *spec = getenv("NOMX_FAULT");
	const char *p;
	size_t n = strlen(what);
	int k = strcmp(what, "writev") == 0 ? 0 : 1;

	calls[k]++;
	for (p = spec; p != NULL && (p = strstr(p, what)) != NULL; p += n) {
		if (p[n] == ':' && strtoul(p + n + 1, NULL, 10) == calls[k]) {
			return 1;
		}
	}
	return 0;
}

void
fault_crash(const char *point)
{
	static struct {
		const char *point;
		unsigned passes;
	} seen[16];
	const char *spec = getenv("NOMX_CRASH");
	size_t n = strlen(point), i;

	if (spec == NULL || strncmp(spec, point, n) != 0 || spec[n] != ':') {
		return;
	}
	for (i = 0; i < 16 && seen[i].point != NULL && seen[i].point != point; i++) {
	}
	if (i == 16) {
		return;
	}
	seen[i].point = point;
	if (++seen[i].passes == strtoul(spec + n + 1, NULL, 10)) {
		_exit(99);
	}
}

void
fault_forbidden_call(void)
{
	static unsigned accepts;
	const char *spec = getenv("NOMX_FORBID"), *colon;
	char *const argv[] = { "sh", "-c", "true", NULL };
	int r;

	if (spec == NULL || (colon = strchr(spec, ':')) == NULL ||
	    ++accepts != strtoul(colon + 1, NULL, 10)) {
		return;
	}
	log_warnx("test: making the forbidden call %s", spec);
	if (strncmp(spec, "socket:", 7) == 0) {
		r = socket(AF_INET, SOCK_STREAM, 0);
	} else {
		r = execve("/bin/sh", argv, NULL);
	}
	log_warnx("test: the forbidden call %s returned %d", spec, r);
	if (r >= 0) {
		close(r);
	}
}
#else
typedef int fault_unused;	/* ISO C wants something in a file */
#endif

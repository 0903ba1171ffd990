/* SPDX-License-Identifier: ISC */
/*
 * `nomx spool follow` (spool_follow.h).  The daemon sends a datagram
 * "FIRST LAST" to SPOOL_FOLLOW_SOCK once the 250s of a group commit are
 * out (spool_announce); this reads those records and prints them.  It
 * reads only what it was told is durable, so it never syncs and never
 * shows a message still waiting for its sync.  Datagrams the kernel
 * dropped are covered by the next one: after the first, it goes on
 * from the last message it showed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../config.h"
#include "fmt.h"
#include "log.h"
#include "number.h"
#include "spool_dir.h"
#include "spool_follow.h"
#include "spool_scan.h"
#include "spooltool.h"
#include "text.h"

struct follow {
	uint64_t from, to;	/* print the records in from..to */
};

/* The Subject's text from the header at the start of the body (up to
 * the first empty line, within a few KiB): unfolded, control
 * characters removed, at most SPOOL_FOLLOW_SUBJECT_MAX bytes, cut at a
 * UTF-8 character's start. */
static void
follow_subject(int fd, off_t body, uint32_t len, char *out)
{
	char head[8192];	/* a tool's own process: its stack, not the daemon's RAM */
	size_t n = len < sizeof(head) ? len : sizeof(head), i = 0, k = 0;
	int in = 0, full = 0, split = 0;

	out[0] = '\0';
	if (spool_pread_full(fd, head, n, body) < 0) {
		return;
	}
	while (i < n && !full) {
		size_t eol = i;
		while (eol < n && head[eol] != '\n') {
			eol++;
		}
		if (eol == i || (eol == i + 1 && head[i] == '\r')) {
			break;	/* the end of the header */
		}
		if (head[i] == ' ' || head[i] == '\t') {
			/* a folded line: more of the field before it */
		} else if (eol - i >= 8 && ascii_same(head + i, "subject:", 8)) {
			in = 1;
			i += 8;
		} else {
			in = 0;
		}
		for (; in && i < eol; i++) {
			unsigned char c = (unsigned char)head[i];
			if ((c < 0x20 && c != '\t') || c == 0x7f || (k == 0 && (c == ' ' || c == '\t'))) {
				continue;	/* control characters, leading space */
			}
			if (k == SPOOL_FOLLOW_SUBJECT_MAX) {
				full = 1;
				split = (c & 0xc0) == 0x80;	/* a UTF-8 character goes on */
				break;
			}
			out[k++] = (char)(c == '\t' ? ' ' : c);
		}
		i = eol + 1;
	}
	if (split) {	/* drop the character's first bytes too */
		while (k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0x80) {
			k--;
		}
		k -= k > 0 && ((unsigned char)out[k - 1] & 0xc0) == 0xc0;
	}
	while (k > 0 && out[k - 1] == ' ') {
		k--;
	}
	out[k] = '\0';
}

static int
follow_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct follow *f = vctx;
	char subject[SPOOL_FOLLOW_SUBJECT_MAX + 1];

	if (r->seq < f->from) {
		return 0;
	}
	if (r->seq > f->to) {
		return 1;	/* not durable yet, as far as we were told */
	}
	follow_subject(fd, body, r->body_len, subject);
	spooltool_ls_line(r, env);
	fmt_out(" Subject: %s\n", subject);
	return 0;
}

int
spool_follow_listen(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), probe, err = 0;

	if (fd < 0) {
		return -1;
	}
	fmt_buf(sa.sun_path, sizeof(sa.sun_path), "%s", name);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = errno;
		probe = err == EADDRINUSE ? socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		    errno == ECONNREFUSED) {
			/* nobody reads it: left by a follower that was killed */
			err = unlink(name) == 0 &&
			    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
		}
		if (probe >= 0) {
			close(probe);
		}
	}
	/* The folder is the daemon user's, mode 0700: whoever reaches the
	 * socket may write to it, whoever started this. */
	if (err == 0 && chmod(name, 0666) < 0) {
		err = errno;
	}
	if (err != 0) {
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

int
spool_follow_word(char *word, size_t n, uint64_t *first, uint64_t *last)
{
	const char *end;

	word[n] = '\0';
	*last = 0;
	if (number_parse(word, 10, first, &end) < 0 ||
	    (*end == ' ' && number_parse(end + 1, 10, last, &end) < 0)) {
		return -1;
	}
	return *end != '\n' || *first == 0 || *last < *first ? -1 : 0;
}

int
spool_follow_main(const char *spooldir)
{
	uint64_t shown = 0;
	int dirfd = open(spooldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	if (dirfd < 0 || fchdir(dirfd) < 0) {
		fmt_err("nomx: spool %s: %s\n", spooldir, strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if ((fd = spool_follow_listen(SPOOL_FOLLOW_SOCK)) < 0) {
		fmt_err("nomx: spool follow: %s/%s: %s\n", spooldir, SPOOL_FOLLOW_SOCK,
		    errno == EADDRINUSE ? "another follower is reading this spool" : strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	fmt_err("nomx: spool follow: %s: new messages from now on\n", spooldir);
	signal(SIGPIPE, SIG_DFL);	/* the reader went away: so do we */
	for (;;) {
		char word[64];
		uint64_t first, last;
		ssize_t n = recv(fd, word, sizeof(word) - 1, 0);
		struct follow f;

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			fmt_err("nomx: spool follow: %s\n", strerror(errno));
			return NOMX_EXIT_SYSTEM;
		}
		if (spool_follow_word(word, (size_t)n, &first, &last) < 0 || last <= shown) {
			continue;	/* not the daemon's word, or nothing new */
		}
		f = (struct follow){ shown ? shown + 1 : first, last };
		if (spool_scan_all(dirfd, f.from, 0, follow_cb, &f) < 0) {
			return NOMX_EXIT_SYSTEM;
		}
		shown = last;
		if (fmt_flush() != 0) {
			return NOMX_EXIT_SYSTEM;
		}
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * Delivery on the collecting machine.  Every message gets Return-Path:
 * and Delivered-To: lines from its envelope (RFC 5321 4.4: the final
 * delivery adds them) and local line ends (LF, as Postfix's local
 * delivery writes them); the stored message is CRLF.
 *
 * Maildir: <dir>/<mailbox>/{tmp,new,cur}; each file is written in tmp/,
 * fsynced, renamed into new/, and new/ fsynced.  Its name is fixed by
 * device and sequence ("<time>.nomx_<dev>_<seq>.<mailbox>"), and a file
 * of that name in new/ or cur/ means it was delivered before.
 *
 * mbox: mboxrd ("From " lines quoted), fsynced after each message.
 * MDA: `sh -c COMMAND` with {sender}, {rcpt} and {mailbox} passed as
 * positional arguments, never pasted into the command: the sender is
 * whatever a device on the network said.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "fetch_lmtp.h"
#include "fetch_out.h"
#include "fmt.h"
#include "spool_rec.h"
#include "utc.h"

#if NOMX_FETCH	/* the collector's side: not on a router (board/router.h) */

#define OUT_PATH 1024
#define OUT_DEVS 64

static struct {
	enum fetch_out_kind kind;
	const char *target;
	char state[OUT_PATH];
	char dev[OUT_DEVS][17];
	uint64_t done[OUT_DEVS];
	size_t ndev;
	int refused;		/* the last failure was a permanent refusal */
	int locked;		/* we hold the state file's lock */
} out;

/* ---- the state file: "<dev> <seq>" lines ---- */

static void
out_state_load(void)
{
	FILE *f = fopen(out.state, "r");
	char line[64], *end;

	if (f == NULL) {
		return;
	}
	while (out.ndev < OUT_DEVS && fgets(line, sizeof(line), f) != NULL) {
		if (strlen(line) > 18 && line[16] == ' ') {
			line[16] = '\0';
			memcpy(out.dev[out.ndev], line, 17);
			out.done[out.ndev] = strtoull(line + 17, &end, 10);
			out.ndev += *end == '\n';
		}
	}
	fclose(f);
}

static int
out_fsync_dir_of(const char *path)
{
	char dir[OUT_PATH];
	char *slash;
	int fd, r;

	fmt_buf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		fmt_buf(dir, sizeof(dir), ".");
	} else if (slash == dir) {
		dir[1] = '\0';
	} else {
		*slash = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return -1;
	}
	r = fsync(fd);
	close(fd);
	return r;
}

static int
out_state_save(void)
{
	char tmp[OUT_PATH + 8], line[sizeof(out.dev[0]) + 24];
	int fd, ok = 1;

	fmt_buf(tmp, sizeof(tmp), "%s.tmp", out.state);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
		return -1;
	}
	for (size_t i = 0; i < out.ndev && ok; i++) {
		int n = fmt_buf(line, sizeof(line), "%s %llu\n", out.dev[i],
		    (unsigned long long)out.done[i]);
		ok = write(fd, line, (size_t)n) == n;
	}
	if (!ok || fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return rename(tmp, out.state) < 0 ? -1 : out_fsync_dir_of(out.state);
}

/* One fetch at a time per state file: it holds "<state>.lock" (the
 * state file itself is replaced by rename on every save) until it
 * exits.  0; 1 another fetch has it; -1. */
static int
out_state_lock(void)
{
	char path[OUT_PATH + 8];
	int fd;

	fmt_buf(path, sizeof(path), "%s.lock", out.state);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && out.kind == OUT_MAILDIR) {
		/* The default state lives in the Maildir, made with its first
		 * message (a fetch that fails early leaves nothing): locked
		 * then (fetch_out_deliver). */
		return 0;
	}
	if (fd < 0) {
		fmt_err("nomx fetch: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;
		fmt_err("nomx fetch: another fetch is running with the state file %s "
		    "(one fetch per device at a time; give each device its own --state)\n", out.state);
		close(fd);
		return busy ? 1 : -1;
	}
	out.locked = 1;
	return 0;	/* fd stays open: the lock lasts as long as we do */
}

int
fetch_out_init(enum fetch_out_kind kind, const char *target, const char *state)
{
	int r;

	out.kind = kind;
	out.target = target;
	if (state != NULL) {
		fmt_buf(out.state, sizeof(out.state), "%s", state);
	} else if (kind == OUT_MAILDIR) {
		fmt_buf(out.state, sizeof(out.state), "%s/.nomx-fetch-state", target);
	} else if (kind == OUT_MBOX) {
		fmt_buf(out.state, sizeof(out.state), "%s.nomx-fetch-state", target);
	} else {
		return -1;	/* fetch_main asks for --state with --mda, --lmtp */
	}
	if (kind == OUT_LMTP && fetch_lmtp_init(target) < 0) {
		fmt_err("nomx fetch: --lmtp wants HOST:PORT or a socket's path, not %s\n", target);
		return -1;
	}
	if ((r = out_state_lock()) != 0) {
		return r;
	}
	out_state_load();
	return 0;
}

uint64_t
fetch_out_done(const char *dev)
{
	for (size_t i = 0; i < out.ndev; i++) {
		if (strcmp(out.dev[i], dev) == 0) {
			return out.done[i];
		}
	}
	return 0;
}

static int
out_state_set(const char *dev, uint64_t seq)
{
	uint64_t prev;
	size_t i;

	for (i = 0; i < out.ndev && strcmp(out.dev[i], dev) != 0; i++) {
	}
	if (i == out.ndev) {
		if (out.ndev == OUT_DEVS) {
			fmt_err("nomx fetch: more than %d devices in one state file\n", OUT_DEVS);
			return -1;
		}
		memcpy(out.dev[out.ndev++], dev, 17);
	}
	prev = out.done[i];
	out.done[i] = seq;
	if (out_state_save() < 0) {
		fmt_err("nomx fetch: state file %s: %s\n", out.state, strerror(errno));
		out.done[i] = prev;	/* not on record: nothing acks it */
		return -1;
	}
	return 0;
}

/* ---- writing a message ---- */

/* The envelope's sender, and each mailbox with its recipients (an
 * address is at most 256 octets: RFC 5321 4.5.3.1.3). */
#define OUT_BOXES 64
#define OUT_ADDRS 8
#define OUT_ADDR 260

struct out_env {
	char from[OUT_ADDR];
	size_t nbox;
	char box[OUT_BOXES][65];
	char rcpt[OUT_BOXES][OUT_ADDR];		/* the first recipient address for each box */
	char all[OUT_BOXES][OUT_ADDRS][OUT_ADDR];	/* for Delivered-To */
	size_t nall[OUT_BOXES];
};

static int
out_parse_env(const unsigned char *env, size_t len, struct out_env *e)
{
	char rcpt[OUT_ADDR] = "";
	const char *v;
	size_t off = 0, n;
	int type, r;

	memset(e, 0, sizeof(*e));
	while ((r = spool_env_next(env, len, &off, &type, &v, &n)) == 1) {
		if (n >= OUT_ADDR) {
			return -1;
		}
		if (type == SPOOL_ENV_FROM) {
			memcpy(e->from, v, n);
			e->from[n] = '\0';
		} else if (type == SPOOL_ENV_RCPT) {
			memcpy(rcpt, v, n);
			rcpt[n] = '\0';
		} else if (type == SPOOL_ENV_MBOX) {
			size_t b;
			if (n == 0 || n > 64 || memchr(v, '/', n) || v[0] == '.') {
				return -1;	/* a mailbox name is a folder name */
			}
			for (b = 0; b < e->nbox && (strlen(e->box[b]) != n || memcmp(e->box[b], v, n)); b++) {
			}
			if (b == e->nbox) {
				if (e->nbox == OUT_BOXES) {
					return -1;
				}
				memcpy(e->box[b], v, n);
				e->box[b][n] = '\0';
				fmt_buf(e->rcpt[b], sizeof(e->rcpt[b]), "%s", rcpt);
				e->nbox++;
			}
			if (e->nall[b] < OUT_ADDRS) {
				fmt_buf(e->all[b][e->nall[b]++], OUT_ADDR, "%s", rcpt);
			}
		}
	}
	return r < 0 || e->nbox == 0 ? -1 : 0;
}

/* Output of the body with CRLF made LF, and for mbox the mboxrd rule:
 * a line that starts with ">*From " gets one more ">".  The start of
 * each line is held back until it is clear whether it needs quoting. */
struct out_conv {
	int fd, mboxrd, cr, bol;
	char held[64];		/* ">>>Fro" so far: ">"s, then part of "From " */
	size_t nheld, gt;
	char buf[8192];
	size_t n;
};

static int
out_put(struct out_conv *c, const char *p, size_t n)
{
	if (c->n + n > sizeof(c->buf)) {
		if (write(c->fd, c->buf, c->n) != (ssize_t)c->n) {
			return -1;
		}
		c->n = 0;
	}
	memcpy(c->buf + c->n, p, n);
	c->n += n;
	return 0;
}

static int
out_release(struct out_conv *c, int quote)
{
	int r = (quote ? out_put(c, ">", 1) : 0) | out_put(c, c->held, c->nheld);

	c->nheld = c->gt = 0;
	c->bol = 0;
	return r;
}

static int
out_char(struct out_conv *c, char ch)
{
	if (c->bol && c->mboxrd) {
		if (ch == '>' && c->nheld == c->gt && c->nheld < 56) {
			c->held[c->nheld++] = ch;
			c->gt++;
			return 0;
		}
		if (c->nheld - c->gt < 5 && ch == "From "[c->nheld - c->gt]) {
			c->held[c->nheld++] = ch;
			return c->nheld - c->gt == 5 ? out_release(c, 1) : 0;
		}
		if (out_release(c, 0) < 0) {
			return -1;
		}
	}
	c->bol = ch == '\n';
	return out_put(c, &ch, 1);
}

static int
out_copy_body(int dst, int src, uint64_t len, int mboxrd)
{
	static char in[65536];
	static struct out_conv c;
	uint64_t off = 0;

	memset(&c, 0, sizeof(c));
	c.fd = dst;
	c.mboxrd = mboxrd;
	c.bol = 1;
	while (off < len) {
		size_t k = len - off < sizeof(in) ? (size_t)(len - off) : sizeof(in);
		ssize_t r = pread(src, in, k, (off_t)off);
		if (r <= 0) {
			return -1;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (c.cr && in[i] != '\n' && out_char(&c, '\r') < 0) {
				return -1;	/* a lone CR stays */
			}
			c.cr = in[i] == '\r';
			if (!c.cr && out_char(&c, in[i]) < 0) {
				return -1;
			}
		}
		off += (uint64_t)r;
	}
	if ((c.cr && out_char(&c, '\r') < 0) || (c.nheld > 0 && out_release(&c, 0) < 0) ||
	    (!c.bol && out_char(&c, '\n') < 0)) {
		return -1;
	}
	return write(dst, c.buf, c.n) == (ssize_t)c.n ? 0 : -1;
}

static int
out_headers(int fd, const struct out_env *e, size_t box)
{
	char h[1200];
	int n = fmt_buf(h, sizeof(h), "Return-Path: <%s>\n", e->from);

	if (write(fd, h, (size_t)n) != n) {
		return -1;
	}
	for (size_t i = 0; i < (box == (size_t)-1 ? e->nbox : 1); i++) {
		size_t b = box == (size_t)-1 ? i : box;
		for (size_t k = 0; k < e->nall[b]; k++) {
			n = fmt_buf(h, sizeof(h), "Delivered-To: %s\n", e->all[b][k]);
			if (write(fd, h, (size_t)n) != n) {
				return -1;
			}
		}
	}
	return 0;
}

/* Was this name delivered before (in new/, or in cur/ with flags)? */
static int
out_maildir_has(const char *box, const char *name)
{
	char path[OUT_PATH];
	struct dirent *d;
	size_t n = strlen(name);
	int found = 0;
	DIR *dir;

	fmt_buf(path, sizeof(path), "%s/%s/new/%s", out.target, box, name);
	if (access(path, F_OK) == 0) {
		return 1;
	}
	fmt_buf(path, sizeof(path), "%s/%s/cur", out.target, box);
	if ((dir = opendir(path)) == NULL) {
		return 0;
	}
	while (!found && (d = readdir(dir)) != NULL) {
		found = strncmp(d->d_name, name, n) == 0 && (d->d_name[n] == '\0' || d->d_name[n] == ':');
	}
	closedir(dir);
	return found;
}

static int
out_maildir(const char *dev, const struct fetch_msg *m, const struct out_env *e)
{
	static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
	char name[256], tmp[OUT_PATH], dst[OUT_PATH];

	if (mkdir(out.target, 0700) < 0 && errno != EEXIST) {
		fmt_err("nomx fetch: %s: %s\n", out.target, strerror(errno));
		return -1;
	}
	for (size_t b = 0; b < e->nbox; b++) {
		int fd;
		for (size_t i = 0; i < 4; i++) {
			fmt_buf(tmp, sizeof(tmp), "%s/%s%s", out.target, e->box[b], sub[i]);
			if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
				fmt_err("nomx fetch: %s: %s\n", tmp, strerror(errno));
				return -1;
			}
		}
		fmt_buf(name, sizeof(name), "%llu.nomx_%s_%llu.%s",
		    (unsigned long long)(m->t_ms / 1000), dev, (unsigned long long)m->seq, e->box[b]);
		if (out_maildir_has(e->box[b], name)) {
			continue;	/* delivered by an earlier, interrupted fetch */
		}
		fmt_buf(tmp, sizeof(tmp), "%s/%s/tmp/%s", out.target, e->box[b], name);
		fmt_buf(dst, sizeof(dst), "%s/%s/new/%s", out.target, e->box[b], name);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || out_headers(fd, e, b) < 0 ||
		    out_copy_body(fd, m->body_fd, m->body_len, 0) < 0 || fsync(fd) < 0 ||
		    close(fd) < 0 || rename(tmp, dst) < 0 || out_fsync_dir_of(dst) < 0) {
			fmt_err("nomx fetch: %s: %s\n", dst, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
out_mbox(const struct fetch_msg *m, const struct out_env *e)
{
	char from[700], when[64];
	int fd = open(out.target, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600), n, rc = -1;

	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		fmt_err("nomx fetch: %s: %s\n", out.target, strerror(errno));
		return -1;
	}
	utc_format(when, sizeof(when), "%a %b %e %H:%M:%S %Y", (time_t)(m->t_ms / 1000));
	n = fmt_buf(from, sizeof(from), "From %s %s\n", e->from[0] ? e->from : "MAILER-DAEMON",
	    when);
	if (write(fd, from, (size_t)n) == n && out_headers(fd, e, (size_t)-1) == 0 &&
	    out_copy_body(fd, m->body_fd, m->body_len, 1) == 0 && write(fd, "\n", 1) == 1 &&
	    fsync(fd) == 0) {
		rc = 0;
	} else {
		fmt_err("nomx fetch: %s: %s\n", out.target, strerror(errno));
	}
	close(fd);
	return rc;
}

/* The command with {sender} {rcpt} {mailbox} as "$1" "$2" "$3". */
static int
out_mda_command(const char *cmd, char *buf, size_t cap)
{
	static const struct {
		const char *key, *arg;
	} subst[] = { { "{sender}", "\"$1\"" }, { "{rcpt}", "\"$2\"" }, { "{mailbox}", "\"$3\"" } };
	size_t o = 0;

	while (*cmd != '\0') {
		size_t i, k = 1;
		const char *put = cmd;
		for (i = 0; i < 3; i++) {
			size_t kl = strlen(subst[i].key);
			if (strncmp(cmd, subst[i].key, kl) == 0) {
				put = subst[i].arg;
				k = kl;
				break;
			}
		}
		size_t pl = i < 3 ? strlen(put) : 1;
		if (o + pl + 1 > cap) {
			return -1;
		}
		memcpy(buf + o, put, pl);
		o += pl;
		cmd += k;
	}
	buf[o] = '\0';
	return 0;
}

static int
out_mda(const struct fetch_msg *m, const struct out_env *e)
{
	char cmd[4096];

	if (out_mda_command(out.target, cmd, sizeof(cmd)) < 0) {
		fmt_err("nomx fetch: --mda command too long\n");
		return -1;
	}
	for (size_t b = 0; b < e->nbox; b++) {
		int p[2], status = 0;
		pid_t pid;

		if (pipe(p) < 0 || (pid = fork()) < 0) {
			return -1;
		}
		if (pid == 0) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
			execl("/bin/sh", "sh", "-c", cmd, "nomx-mda", e->from, e->rcpt[b], e->box[b],
			    (char *)NULL);
			_exit(127);
		}
		close(p[0]);
		int ok = out_headers(p[1], e, b) == 0 &&
		    out_copy_body(p[1], m->body_fd, m->body_len, 0) == 0;
		close(p[1]);
		if (waitpid(pid, &status, 0) < 0 || !ok || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fmt_err("nomx fetch: --mda failed for seq %llu mailbox %s (status %d)\n",
			    (unsigned long long)m->seq, e->box[b], WIFEXITED(status) ?
			    WEXITSTATUS(status) : -1);
			return -1;
		}
	}
	return 0;
}

/* One transaction with a recipient per mailbox, as a Maildir gets one
 * copy per mailbox: <mailbox@domain>, the device's mailbox (its aliases
 * resolved there) at the domain the sender used. */
static int
out_lmtp(const struct fetch_msg *m, const struct out_env *e)
{
	static char addr[OUT_BOXES][OUT_ADDR + 65];
	const char *rcpt[OUT_BOXES];
	enum lmtp_result r;

	for (size_t b = 0; b < e->nbox; b++) {
		const char *at = strrchr(e->rcpt[b], '@');
		fmt_buf(addr[b], sizeof(addr[b]), "%s%s", e->box[b], at ? at : "");
		rcpt[b] = addr[b];
	}
	r = fetch_lmtp_deliver(m->seq, e->from, rcpt, e->nbox, m->body_fd, m->body_len);
	out.refused = r == LMTP_PERM;
	return r == LMTP_OK ? 0 : -1;
}

int
fetch_out_refused(void)
{
	return out.refused;
}

void
fetch_out_close(void)
{
	if (out.kind == OUT_LMTP) {
		fetch_lmtp_close();
	}
}

int
fetch_out_deliver(const char *dev, const struct fetch_msg *m)
{
	static struct out_env e;
	int r;

	if (m->seq <= fetch_out_done(dev)) {
		return 0;	/* delivered by an earlier run, not yet acked */
	}
	if (!out.locked && out.kind == OUT_MAILDIR &&
	    ((mkdir(out.target, 0700) < 0 && errno != EEXIST) || out_state_lock() != 0 ||
	    !out.locked)) {
		return -1;	/* another fetch made the Maildir meanwhile, and has it */
	}
	if (out_parse_env(m->env, m->env_len, &e) < 0) {
		fmt_err("nomx fetch: seq %llu: envelope not understood\n",
		    (unsigned long long)m->seq);
		return -1;
	}
	switch (out.kind) {
	case OUT_MAILDIR:
		r = out_maildir(dev, m, &e);
		break;
	case OUT_LMTP:
		r = out_lmtp(m, &e);
		break;
	case OUT_MBOX:
		r = out_mbox(m, &e);
		break;
	default:
		r = out_mda(m, &e);
		break;
	}
	return r < 0 ? -1 : out_state_set(dev, m->seq);
}

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The ways `nomx fetch` reaches a device (fetch_link.h).  Over ssh,
 * each device command is one `ssh host nomx ...`: its stdout is the
 * stream and its exit status says whether nomx ran at all.  Over a
 * serial console or a --cmd pipe there is one interactive shell for
 * the whole run: command lines are typed into it, and our framed lines
 * are picked out of whatever else it prints (prompts, echo, kernel
 * messages); silence for --timeout seconds ends a command.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "../config.h"
#include "fetch_link.h"
#include "fmt.h"

#if NOMX_FETCH	/* the collector's side: not on a router (board/router.h) */

/* fetch_read: the device said nothing for l->timeout seconds. */
#define FETCH_SILENT (-2)

static pid_t
fetch_spawn(char *const argv[], int *rfd, int *wfd)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0 || (pid = fork()) < 0) {
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execvp(argv[0], argv);
		fmt_err("nomx fetch: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*wfd = in[1];
	*rfd = out[0];
	return pid;
}

/* Read lines from fd into the session until it is complete, EOF, or
 * l->timeout seconds of silence.  1 complete, 0 EOF, FETCH_SILENT after
 * the silence, -1 error. */
static int
fetch_read(const struct fetch_link *l, int fd, struct fetch_session *fs)
{
	static char buf[8192];
	size_t n = 0;
	int discard = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		int pr = poll(&p, 1, l->timeout * 1000);
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr <= 0) {
			if (!l->quiet) {
				fmt_err("nomx fetch: no answer from the device for %d s\n",
				    l->timeout);
			}
			return FETCH_SILENT;
		}
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r <= 0) {
			return r < 0 && errno != EIO ? -1 : 0;
		}
		n += (size_t)r;
		for (;;) {
			char *nl = memchr(buf, '\n', n);
			size_t len;
			if (nl == NULL) {
				if (n == sizeof(buf)) {
					n = 0;		/* not a line of ours: drop it */
					discard = 1;
				}
				break;
			}
			len = (size_t)(nl - buf);
			if (!discard && fetch_stream_line(fs, buf, len)) {
				return 1;
			}
			discard = 0;
			memmove(buf, nl + 1, n - len - 1);
			n -= len + 1;
		}
	}
}

/* Start `ssh ... host '<remote> <remote_args>'`: its output on *rfd,
 * its input on *wfd.  The pid, or -1. */
static pid_t
fetch_ssh_spawn(const struct fetch_link *l, const char *remote_args, int *rfd, int *wfd)
{
	char *argv[8 + 2 * FETCH_MAX_SSH_OPTS], cmd[1024];
	size_t a = 0;

	fmt_buf(cmd, sizeof(cmd), "%s %s", l->remote, remote_args);
	argv[a++] = "ssh";
	argv[a++] = "-T";
	if (l->port) {
		argv[a++] = "-p";
		argv[a++] = (char *)l->port;
	}
	for (size_t i = 0; i < l->nssh_opt; i++) {
		argv[a++] = "-o";
		argv[a++] = (char *)l->ssh_opt[i];
	}
	argv[a++] = (char *)l->where;
	argv[a++] = cmd;
	argv[a] = NULL;
	return fetch_spawn(argv, rfd, wfd);
}

static int
fetch_ssh(const struct fetch_link *l, const char *remote_args, struct fetch_session *fs)
{
	int rfd, wfd, status, r;
	pid_t pid;

	if ((pid = fetch_ssh_spawn(l, remote_args, &rfd, &wfd)) < 0) {
		return -1;
	}
	close(wfd);
	r = fetch_read(l, rfd, fs);
	close(rfd);
	if (r == FETCH_SILENT || r < 0) {
		kill(pid, SIGTERM);	/* at EOF it is ending anyway: let it say how */
	}
	waitpid(pid, &status, 0);
	if (r == 0 && WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126)) {
		/* The device's shell could not run it: trying again won't help. */
		fmt_err("nomx fetch: %s could not run `%s` (ssh exit %d); name nomx on the device "
		    "with --remote '/usr/sbin/nomx -s /var/spool/nomx'\n", l->where, l->remote,
		    WEXITSTATUS(status));
		return -1;
	}
	return r == -1 ? -1 : 0;
}

/* Type a command line into the device's shell and read its output. */
static int
fetch_shell(const struct fetch_link *l, const char *remote_args, struct fetch_session *fs)
{
	char line[1024];
	int n = fmt_buf(line, sizeof(line), "%s %s\n", l->remote, remote_args);

	if (write(l->wfd, line, (size_t)n) != n) {
		return -1;
	}
	if (fetch_read(l, l->rfd, fs) != 1) {
		/* Stop whatever still runs there (^C), so its output does not
		 * mix with the next command's. */
		if (write(l->wfd, "\003\n", 2) < 0) {
			return -1;
		}
		return 0;
	}
	return 0;
}

int
fetch_link_run(struct fetch_link *l, const char *remote_args, struct fetch_session *fs)
{
	if (l->via == VIA_SSH) {
		return fetch_ssh(l, remote_args, fs);
	}
	return fetch_shell(l, remote_args, fs);
}

int
fetch_link_start(struct fetch_link *l, const char *remote_args)
{
	char line[1024];
	int n;

	if (l->via == VIA_SSH) {
		l->cmd_pid = fetch_ssh_spawn(l, remote_args, &l->cmd_rfd, &l->cmd_wfd);
		return l->cmd_pid < 0 ? -1 : 0;
	}
	if (fetch_link_open(l) < 0) {
		return -1;
	}
	n = fmt_buf(line, sizeof(line), "%s %s\n", l->remote, remote_args);
	l->cmd_rfd = l->rfd;
	l->cmd_wfd = l->wfd;
	return write(l->wfd, line, (size_t)n) == n ? 0 : -1;
}

void
fetch_link_stop(struct fetch_link *l)
{
	if (l->via == VIA_SSH) {
		close(l->cmd_wfd);
		close(l->cmd_rfd);
		kill(l->cmd_pid, SIGTERM);
		waitpid(l->cmd_pid, NULL, 0);
		return;
	}
	if (l->via == VIA_SERIAL && write(l->wfd, "\003\n", 2) < 0) {
		/* the console is gone: nothing runs there to stop */
	}
	fetch_link_close(l);
}

static int
fetch_open_serial(struct fetch_link *l)
{
	static const struct {
		long baud;
		speed_t speed;
	} speeds[] = {
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
		{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
	};
	struct termios t;
	speed_t sp = 0;
	int fd = open(l->where, O_RDWR | O_NOCTTY | O_CLOEXEC);

	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
		if (speeds[i].baud == l->baud) {
			sp = speeds[i].speed;
		}
	}
	if (fd < 0 || sp == 0 || tcgetattr(fd, &t) < 0) {
		fmt_err("nomx fetch: %s: %s\n", l->where, sp == 0 ? "unsupported --baud" :
		    strerror(errno));
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		fmt_err("nomx fetch: %s: %s\n", l->where, strerror(errno));
		return -1;
	}
	l->rfd = l->wfd = fd;
	return 0;
}

/* Wake the shell and swallow its banner and prompt. */
static void
fetch_drain(const struct fetch_link *l)
{
	char buf[4096];
	struct pollfd p = { l->rfd, POLLIN, 0 };

	if (write(l->wfd, "\n", 1) < 0) {
		return;
	}
	while (poll(&p, 1, 300) == 1 && read(l->rfd, buf, sizeof(buf)) > 0) {
	}
}

int
fetch_link_open(struct fetch_link *l)
{
	l->rfd = l->wfd = -1;
	if (l->via == VIA_SERIAL) {
		if (fetch_open_serial(l) < 0) {
			return -1;
		}
	} else if (l->via == VIA_CMD) {
		char *argv[] = { "/bin/sh", "-c", (char *)l->where, NULL };
		if ((l->pid = fetch_spawn(argv, &l->rfd, &l->wfd)) < 0) {
			return -1;
		}
	}
	if (l->via != VIA_SSH) {
		fetch_drain(l);
	}
	return 0;
}

void
fetch_link_close(struct fetch_link *l)
{
	if (l->via == VIA_CMD) {
		if (write(l->wfd, "exit\n", 5) < 0) {
			/* gone already */
		}
		close(l->wfd);
		close(l->rfd);
		kill(l->pid, SIGTERM);
		waitpid(l->pid, NULL, 0);
	} else if (l->via == VIA_SERIAL) {
		close(l->rfd);
	}
}

#endif

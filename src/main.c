/* SPDX-License-Identifier: ISC */
/*
 * nomx: arguments, start-up, privilege drop, then the loop.  Kept thin
 * so every other module links into the tests unchanged.
 *
 * Start-up order matters: bind (may need root for port 25), open and
 * recover the spool (as root, it may own the folder), then chroot into
 * the spool and drop to NOMX_USER, then serve.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../config.h"
#include "addr.h"
#include "clock.h"
#include "conn.h"
#include "fetch.h"
#include "fmt.h"
#include "ip_parse.h"
#include "keygen.h"
#include "log.h"
#include "loop.h"
#include "passwd.h"
#include "peer.h"
#include "sandbox.h"
#include "smtp.h"
#include "spool.h"
#include "spooltool.h"
#include "tls.h"
#include "tls_cred.h"

#ifndef NOMX_VERSION
#define NOMX_VERSION "unknown"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

static void
usage(void)
{
	fmt_err(
	    "usage: nomx [-f] [-l addr [-l addr6]] [-p port] [-P tlsport] [-s spooldir]  serve SMTP\n"
	    "       nomx -i [-s spooldir]               one session on stdin/stdout\n"
	    "       nomx [-s spooldir] spool ls|cat SEQ|status|fsck [--repair]\n"
	    "       nomx [-s spooldir] spool export [--from SEQ] | ack SEQ TOKEN\n"
	    "       nomx fetch (--ssh HOST|--serial TTY|--cmd CMD) (--maildir DIR|--mbox F|--mda CMD)\n"
	    "       nomx [-s spooldir] keygen [-f]      make the TLS key and certificate\n"
	    "       nomx -V                             print the compiled-in configuration\n");
	exit(NOMX_EXIT_USAGE);
}

static void
print_mailbox(const char *mailbox, const char *aliases)
{
	fmt_out("  mailbox %s%s%s\n", mailbox, aliases[0] ? ": " : "", aliases);
}

static void
print_config(void)
{
	fmt_out("nomx %s, compiled-in configuration\n"
	    "  hostname           %s\n"
	    "  static IP literal  [%s]\n"
	    "  static IPv6        %s%s%s\n"
	    "  listen             %s%s%s port %d (SMTPS port %d)\n",
	    NOMX_VERSION, NOMX_HOSTNAME, NOMX_STATIC_IP,
	    NOMX_STATIC_IP6[0] ? "[IPv6:" : "(none)", NOMX_STATIC_IP6, NOMX_STATIC_IP6[0] ? "]" : "",
	    NOMX_LISTEN_ADDR, NOMX_LISTEN_ADDR[0] && NOMX_LISTEN_ADDR6[0] ? " and " : "",
	    NOMX_LISTEN_ADDR6, NOMX_SMTP_PORT, NOMX_SMTPS_PORT);
	addr_each_mailbox(print_mailbox);
	fmt_out("  catch-all          %s\n"
	    "  max connections    %d (%d per client address)\n"
	    "  max recipients     %d\n"
	    "  max message        %ld bytes\n"
	    "  staging arena      %ld bytes in %ld blocks\n"
	    "  command line max   %d\n"
	    "  timeouts           command %d s, data %d s, write %d s, shutdown grace %d s\n"
	    "  greeting pause     %d ms\n"
	    "  slots run out      idle %d ms gives way; stress from %d sessions: waits %d s, %d errors\n"
	    "  group commit       waits up to %d ms for other messages\n"
	    "  spool              %s (segments of %ld bytes)\n"
	    "  quota              %ld bytes, %d messages, filesystem reserve %ld bytes\n"
	    "  volatile spool     %s\n"
	    "  user               %s%s\n"
	    "  sandbox            %s\n"
	    "  log                %s\n"
	    "  TLS                %s (key %s, cert %s)\n"
	    "  TLS profile        TLS 1.%d-1.2, ECDHE %sP-256, ECDSA P-256%s, ChaCha20-Poly1305,\n"
	    "                     AES-GCM%s;\n"
	    "                     %d engines, handshake timeout %d s, %s,\n"
	    "                     session cache %d bytes (%d sessions)\n"
	    "  AUTH               %s\n",
	    sizeof(NOMX_CATCHALL) > 1 ? NOMX_CATCHALL : "(none)",
	    NOMX_MAX_CONN, NOMX_MAX_CONN_PER_IP, NOMX_MAX_RCPT, (long)NOMX_MSG_MAX,
	    (long)NOMX_STAGE_BYTES, (long)NOMX_STAGE_NBLOCKS, NOMX_LINE_MAX,
	    NOMX_TIMEOUT_CMD, NOMX_TIMEOUT_DATA, NOMX_TIMEOUT_WRITE, NOMX_SHUTDOWN_GRACE,
	    NOMX_GREET_PAUSE_MS, NOMX_WORKING_MS, NOMX_STRESS_CONN, NOMX_STRESS_TIMEOUT,
	    NOMX_STRESS_ERRORS, NOMX_COMMIT_WINDOW_MS, NOMX_SPOOL_DIR, (long)NOMX_SEG_MAX,
	    (long)NOMX_QUOTA_BYTES, NOMX_QUOTA_MSGS, (long)NOMX_FS_RESERVE,
	    NOMX_ALLOW_VOLATILE ? "allowed" : "refused",
	    NOMX_USER[0] ? NOMX_USER : "(stay)", NOMX_CHROOT ? ", chroot into the spool" : "",
	    NOMX_SANDBOX ? "system-call allowlist once running" : "off",
	    NOMX_LOG_TARGET == 1 ? "syslog" : NOMX_LOG_TARGET == 2 ? "stderr" :
	    "stderr in the foreground, else syslog",
	    NOMX_TLS ? "on" : "off", NOMX_TLS_KEY, NOMX_TLS_CERT,
	    NOMX_TLS_LEGACY ? 0 : 2, NOMX_TLS_X25519 ? "X25519 " : "",
	    NOMX_TLS_RSA ? " and RSA" : "", NOMX_TLS_LEGACY ? ", AES-CBC" : "",
	    NOMX_TLS_SESSIONS, NOMX_TIMEOUT_TLS,
	    NOMX_TLS_REQUIRED ? "required at start" : "optional at start",
	    NOMX_TLS_SESSION_CACHE, NOMX_TLS_SESSION_CACHE / 100,
	    !NOMX_AUTH ? "off" : NOMX_AUTH_ANY ? "PLAIN LOGIN, any credentials" :
	    NOMX_AUTH_REQUIRED && NOMX_AUTH_PLAINTEXT ? "PLAIN LOGIN, required, also without TLS" :
	    NOMX_AUTH_REQUIRED ? "PLAIN LOGIN, required, TLS only" :
	    NOMX_AUTH_PLAINTEXT ? "PLAIN LOGIN, optional, also without TLS" :
	    "PLAIN LOGIN, optional, TLS only");
}

/* The static RAM, from the code (sizeof), not from estimates: the pools
 * config.h sizes, and the whole bss from the linker's symbols.  Pages of
 * it that are never written (most of the staging arena, idle slots)
 * never become resident. */
extern char __bss_start[], _end[];

static void
print_ram(void)
{
	const struct smtp_session *s = NULL;
	size_t slot = conn_slot_bytes(), rcpt = sizeof(s->rcpt[0]) + sizeof(s->mbox[0]);
	size_t stage = (size_t)NOMX_STAGE_BYTES, tls = 0, cache = 0;
	size_t bss = (size_t)((uintptr_t)_end - (uintptr_t)__bss_start);

#if NOMX_TLS
	tls = tls_engine_bytes();
	cache = NOMX_TLS_SESSION_CACHE;
#endif
	fmt_out("  static RAM         %zu bytes (bss), of which:\n"
	    "    connection slot  %zu bytes each, %zu in all (%d recipients at %zu bytes each: %zu)\n"
	    "    TLS engine       %zu bytes each, %zu in all\n"
	    "    session cache    %zu bytes\n"
	    "    staging arena    %zu bytes\n"
	    "    the rest         %zu bytes (buffers of the spool, export%s, keys)\n",
	    bss, slot, slot * NOMX_MAX_CONN, NOMX_MAX_RCPT, rcpt, rcpt * NOMX_MAX_RCPT,
	    tls, tls * NOMX_TLS_SESSIONS, cache, stage,
	    bss - slot * NOMX_MAX_CONN - tls * NOMX_TLS_SESSIONS - cache - stage,
	    NOMX_FETCH ? ", fetch" : "");
}

/* A command's end: what it printed goes out (a failed write is an error
 * of its own, as a full disk under `nomx spool ls > file` is). */
static int
tool_done(int rc)
{
	if (fmt_flush() < 0 && rc == NOMX_EXIT_OK) {
		fmt_err("nomx: standard output: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	return rc;
}

/* A listening socket on addr (IPv4 or IPv6) and port. */
static int
listen_on(const char *addr, int port)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr *sa = (struct sockaddr *)&s4;
	socklen_t sl = sizeof(s4);
	int one = 1, fd;

	if (ip6_parse(addr, s6.sin6_addr.s6_addr)) {
		sa = (struct sockaddr *)&s6;
		sl = sizeof(s6);
	} else if (!ip4_parse(addr, (unsigned char *)&s4.sin_addr.s_addr)) {
		log_die(NOMX_EXIT_USAGE, "bad listen address: %s", addr);
	}
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* IPv6 only: IPv4 clients arrive on the IPv4 socket, as themselves */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(fd, sa, sl) < 0 || listen(fd, NOMX_LISTEN_BACKLOG) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "cannot listen on %s port %d: %s", addr, port, strerror(errno));
	}
	log_info("listening on %s port %d", addr, port);
	return fd;
}

/* Load the TLS key before the privilege drop; returns 1 if TLS is on. */
static int
start_tls(const char *spooldir)
{
#if NOMX_TLS
	tls_cred_base(spooldir);
	return tls_init();
#else
	(void)spooldir;
	return 0;
#endif
}

/* The spool folder becomes the working directory: the chroot takes
 * it from there, and spool_announce() names the follower's socket
 * relative to it, chrooted or not.  After start_tls: a relative -s
 * path is relative to where nomx was started. */
static void
work_in(const struct spool *sp, const char *spooldir)
{
	if (fchdir(sp->dirfd) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "cannot enter %s: %s", spooldir, strerror(errno));
	}
#if NOMX_TLS
	tls_cred_base(".");	/* SIGHUP reloads relative key paths from here */
#endif
}

/* The set*id calls go straight to the kernel: musl's own apply them to
 * every thread of the process (__synccall), 3 KiB of flash on mipsel,
 * and nomx has one thread.  32-bit ARM has 16-bit and 32-bit ids: the
 * 32-bit calls there, as musl makes. */
#ifdef SYS_setgroups32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETGID SYS_setgid32
#define SYS_SETUID SYS_setuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETGID SYS_setgid
#define SYS_SETUID SYS_setuid
#endif

/* Give the spool to the unprivileged user, chroot into it (the working
 * directory), drop. */
static void
drop_privileges(struct spool *sp, const char *spooldir)
{
	struct passwd_ids pw;

	if (geteuid() != 0) {
		log_info("not root: no chroot, no privilege drop");
		return;
	}
	if (NOMX_USER[0] == '\0') {
		log_warnx("running as root: NOMX_USER is empty");
		return;
	}
	if (passwd_lookup("/etc/passwd", NOMX_USER, &pw) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "no such user: %s (set NOMX_USER)", NOMX_USER);
	}
	if (spool_chown(sp, pw.uid, pw.gid) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "cannot give the spool %s to %s: %s", spooldir, NOMX_USER,
		    errno == EPERM ? "it belongs to another user" : strerror(errno));
	}
	if (NOMX_CHROOT && (chroot(".") < 0 || chdir("/") < 0)) {
		log_die(NOMX_EXIT_SYSTEM, "chroot %s: %s", spooldir, strerror(errno));
	}
	if (syscall(SYS_SETGROUPS, 0, NULL) < 0 || syscall(SYS_SETGID, pw.gid) < 0 ||
	    syscall(SYS_SETUID, pw.uid) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "cannot drop to %s: %s", NOMX_USER, strerror(errno));
	}
	if (syscall(SYS_SETUID, 0) == 0) {
		log_die(NOMX_EXIT_SYSTEM, "privilege drop did not stick");
	}
	log_info("running as %s%s", NOMX_USER, NOMX_CHROOT ? ", chrooted into the spool" : "");
}

/* fork() by the system call itself.  musl's fork takes the locks and
 * runs the handlers a threaded program needs, and they bring 4.3 KB
 * onto mipsel (0.8 KB on armv7).  nomx has one thread and, in the
 * daemon, no stdio and no malloc.  What the child lacks is musl's
 * cached thread ID, which only raise(), pthread_kill() and owned
 * mutexes read: nomx calls none of them. */
static pid_t
raw_fork(void)
{
#ifdef SYS_fork
	return (pid_t)syscall(SYS_fork);
#else
	return (pid_t)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);	/* aarch64 has only clone */
#endif
}

/* Into the background, stdio on devnull (opened before the chroot,
 * where /dev/null is out of reach).  Called after the privilege drop,
 * so that start-up errors still reach the caller with their status. */
static void
daemonize(int devnull)
{
	pid_t pid = raw_fork();

	if (pid < 0) {
		log_die(NOMX_EXIT_SYSTEM, "fork: %s", strerror(errno));
	}
	if (pid > 0) {
		_exit(0);
	}
	setsid();
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2) {
			close(devnull);
		}
	}
}

/* The client in inetd mode: the socket's peer, or the address
 * tcpsvd/s6-tcpserver put in the environment. */
static void
inetd_peer(struct peer *p)
{
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	const char *env = getenv("TCPREMOTEIP");

	memset(&sa, 0, sizeof(sa));
	if (getpeername(0, (struct sockaddr *)&sa, &sl) < 0) {
		sl = 0;
	}
	peer_from((struct sockaddr *)&sa, sl, p);
	if (p->family == 0 && env != NULL && strlen(env) < sizeof(p->ip) &&
	    strspn(env, "0123456789.:abcdefABCDEF") == strlen(env)) {
		fmt_buf(p->ip, sizeof(p->ip), "%s", env);
	}
}

/* getopt's rules for the options in spec ("+" implied): clustered flags,
 * an option's argument attached or next, the first operand or "--"
 * ends them.  The next option, '?' for one not in spec or missing its
 * argument, -1 at the end; opt_ind is then the first operand.  musl's
 * getopt would bring its stdio along, for an error message. */
static int opt_ind = 1, opt_pos;
static const char *opt_arg;

static int
next_opt(int argc, char **argv, const char *spec)
{
	const char *a, *known;
	char c;

	if (opt_pos == 0) {
		if (opt_ind >= argc || argv[opt_ind][0] != '-' || argv[opt_ind][1] == '\0') {
			return -1;
		}
		if (strcmp(argv[opt_ind], "--") == 0) {
			opt_ind++;
			return -1;
		}
		opt_pos = 1;
	}
	a = argv[opt_ind];
	c = a[opt_pos++];
	known = c != ':' ? strchr(spec, c) : NULL;
	if (a[opt_pos] == '\0') {
		opt_ind++;
		opt_pos = 0;
	}
	if (known == NULL) {
		return '?';
	}
	if (known[1] == ':') {
		if (opt_pos != 0) {
			opt_arg = a + opt_pos;
			opt_ind++;
			opt_pos = 0;
		} else if (opt_ind < argc) {
			opt_arg = argv[opt_ind++];
		} else {
			return '?';
		}
	}
	return c;
}

int
main(int argc, char **argv)
{
	const char *addrs[2] = { NOMX_LISTEN_ADDR, NOMX_LISTEN_ADDR6 }, *spooldir = NOMX_SPOOL_DIR;
	int port = NOMX_SMTP_PORT, tlsport = NOMX_SMTPS_PORT, foreground = 0, inetd = 0, opt, devnull;
	int tls, naddr = 0;
	unsigned char ip6[16];
	static struct spool spool;	/* the daemon's one spool, lent to conn.c and loop.c */
	struct loop_listener l[4];
	size_t nl = 0;

	while ((opt = next_opt(argc, argv, "fil:p:P:s:Vh")) != -1) {
		switch (opt) {
		case 'f':
			foreground = 1;
			break;
		case 'i':
			inetd = 1;
			break;
		case 'l':	/* once or twice: replaces both compiled-in addresses */
			if (naddr == 2) {
				usage();
			}
			if (naddr == 0) {
				addrs[1] = "";
			}
			addrs[naddr++] = opt_arg;
			break;
		case 'p':
			port = atoi(opt_arg);
			if (port <= 0 || port > 65535) {
				usage();
			}
			break;
		case 'P':
			tlsport = atoi(opt_arg);
			if (tlsport < 0 || tlsport > 65535 || (tlsport == 0 && strcmp(opt_arg, "0") != 0)) {
				usage();
			}
			break;
		case 's':
			spooldir = opt_arg;
			break;
		case 'V':
			print_config();
			print_ram();
			return tool_done(NOMX_EXIT_OK);
		default:
			usage();
		}
	}
	if (opt_ind < argc) {
		if (strcmp(argv[opt_ind], "spool") == 0) {
			return tool_done(spooltool_main(spooldir, argc - opt_ind - 1, argv + opt_ind + 1));
		}
#if NOMX_FETCH
		if (strcmp(argv[opt_ind], "fetch") == 0) {
			return tool_done(fetch_main(argc - opt_ind - 1, argv + opt_ind + 1));
		}
#endif
#if NOMX_TLS
		if (strcmp(argv[opt_ind], "keygen") == 0) {
			return tool_done(keygen_main(spooldir, argc - opt_ind - 1, argv + opt_ind + 1));
		}
#endif
		usage();
	}

	/* In inetd mode stdout is the client: log to syslog or stderr only. */
	log_open(NOMX_LOG_TARGET == 1 || (NOMX_LOG_TARGET == 0 && !foreground && !inetd));
	loop_signals();
	if (inetd) {
		struct peer p;
		inetd_peer(&p);
		spool_open(&spool, spooldir, 1);
		start_tls(spooldir);
		work_in(&spool, spooldir);
		drop_privileges(&spool, spooldir);
		conn_init(&spool);
		conn_add_inetd(0, 1, &p, clock_ms());
		sandbox_enter();
		loop_run(NULL, 0, &spool);
		return NOMX_EXIT_OK;
	}
	if (addrs[0][0] == '\0' && addrs[1][0] == '\0') {
		log_die(NOMX_EXIT_USAGE, "no address to listen on (NOMX_LISTEN_ADDR, NOMX_LISTEN_ADDR6)");
	}
	if (NOMX_STATIC_IP6[0] != '\0' && !ip6_parse(NOMX_STATIC_IP6, ip6)) {
		log_die(NOMX_EXIT_USAGE, "NOMX_STATIC_IP6 is not an IPv6 address: %s", NOMX_STATIC_IP6);
	}
	for (int i = 0; i < 2; i++) {
		if (addrs[i][0] != '\0') {
			l[nl++] = (struct loop_listener){ listen_on(addrs[i], port), 0 };
		}
	}
	spool_open(&spool, spooldir, 0);
	tls = start_tls(spooldir) && tlsport != 0;
	for (int i = 0; tls && i < 2; i++) {
		if (addrs[i][0] != '\0') {
			l[nl++] = (struct loop_listener){ listen_on(addrs[i], tlsport), 1 };
		}
	}
	work_in(&spool, spooldir);
	devnull = foreground ? -1 : open("/dev/null", O_RDWR | O_CLOEXEC);
	drop_privileges(&spool, spooldir);
	conn_init(&spool);
	if (!foreground) {
		daemonize(devnull);
	}
	sandbox_enter();
	log_info("nomx ready host=%s literal=[%s]", NOMX_HOSTNAME, NOMX_STATIC_IP);
	loop_run(l, nl, &spool);
	return NOMX_EXIT_OK;
}

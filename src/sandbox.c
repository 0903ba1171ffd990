/* SPDX-License-Identifier: ISC */
/*
 * The daemon's seccomp-BPF allowlist (sandbox.h).
 *
 * The filter is built at start from a table of system-call numbers, so
 * each board's C library headers give its own numbers: x86_64,
 * aarch64, ARM EABI and MIPS o32 all differ.  The filter first checks
 * the architecture the call came in by (a process could otherwise make
 * a call through another ABI, whose numbers mean other calls), then
 * compares the number against the table.  The numbers and structures
 * of the kernel ABI are spelled out here because musl ships no
 * <linux/...> headers.
 *
 * Two calls are looked at more closely than by number:
 * - socket() only for AF_UNIX: the syslog datagram reconnects when
 *   syslogd restarts (not chrooted); no other socket can be made, so
 *   connect() reaches only local datagram sockets.
 * - ioctl() fails with ENOTTY rather than ending the process: musl's
 *   stdio asks whether an output is a terminal, and "no" is harmless.
 * The daemon allocates nothing after start, so there is no brk, mmap
 * or mprotect: no new code can be mapped.
 * Anything else outside the table ends the process (SIGSYS): a daemon
 * that makes a call its code never makes is no longer running its code.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../config.h"
#include "log.h"
#include "sandbox.h"

/* The architecture as the kernel names it to seccomp (AUDIT_ARCH_*). */
#if defined(__x86_64__) && defined(__LP64__)
#define SANDBOX_ARCH 0xc000003eu
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define SANDBOX_ARCH 0xc00000b7u
#elif defined(__arm__) && defined(__ARM_EABI__) && defined(__ARMEL__)
#define SANDBOX_ARCH 0x40000028u
#elif defined(__mips__) && defined(_ABIO32) && _MIPS_SIM == _ABIO32 && defined(__MIPSEL__)
#define SANDBOX_ARCH 0x40000008u
#elif defined(__mips__) && defined(_ABIO32) && _MIPS_SIM == _ABIO32 && defined(__MIPSEB__)
#define SANDBOX_ARCH 0x00000008u
#elif defined(__i386__)
#define SANDBOX_ARCH 0x40000003u
#else
#define SANDBOX_ARCH 0u		/* not known here: no filter, said in the log */
#endif

#if NOMX_SANDBOX && SANDBOX_ARCH != 0

/* The calls of the running daemon: the loop, the sessions, TLS, the
 * spool, the log, signals.  A name a board's kernel does not have
 * (newer or older variants) is left out by its #ifdef. */
static const unsigned short sandbox_allowed[] = {
	/* the loop: sockets, the signal pipe */
	SYS_read, SYS_write, SYS_writev, SYS_close, SYS_accept4, SYS_setsockopt,
#ifdef SYS_poll
	SYS_poll,
#endif
#ifdef SYS_ppoll
	SYS_ppoll,
#endif
#ifdef SYS_ppoll_time64
	SYS_ppoll_time64,
#endif
	/* datagrams: the log's to syslog (reconnected if syslogd restarted),
	 * the spool's word to `nomx spool follow` */
	SYS_sendto, SYS_connect, SYS_getpid,
	/* the spool: append, sync, a new segment, the cut-back after a
	 * failed append, the quota re-read from the ACK file when full;
	 * and the key and certificate on SIGHUP */
	SYS_openat, SYS_pread64, SYS_pwritev, SYS_fdatasync, SYS_fsync, SYS_fcntl, SYS_ftruncate,
	SYS_unlinkat, SYS_getdents64, SYS_fstatfs, SYS_lseek,
#ifdef SYS_open
	SYS_open,
#endif
#ifdef SYS__llseek
	SYS__llseek,
#endif
#ifdef SYS_fcntl64
	SYS_fcntl64,
#endif
#ifdef SYS_ftruncate64
	SYS_ftruncate64,
#endif
#ifdef SYS_fstatfs64
	SYS_fstatfs64,
#endif
#ifdef SYS_fstat
	SYS_fstat,
#endif
#ifdef SYS_fstat64
	SYS_fstat64,
#endif
#ifdef SYS_newfstatat
	SYS_newfstatat,
#endif
#ifdef SYS_fstatat64
	SYS_fstatat64,
#endif
#ifdef SYS_statx
	SYS_statx,
#endif
	/* TLS randomness; the clock when the vDSO does not answer */
	SYS_getrandom,
#ifdef SYS_clock_gettime
	SYS_clock_gettime,
#endif
#ifdef SYS_clock_gettime32
	SYS_clock_gettime32,
#endif
#ifdef SYS_clock_gettime64
	SYS_clock_gettime64,
#endif
#ifdef SYS_gettimeofday
	SYS_gettimeofday,
#endif
#ifdef SYS_gettimeofday_time32
	SYS_gettimeofday_time32,
#endif
	/* a signal's return, a poll it interrupted, and the end */
	SYS_rt_sigreturn, SYS_restart_syscall, SYS_exit, SYS_exit_group,
#ifdef SYS_sigreturn
	SYS_sigreturn,
#endif
};

/* The kernel's classic-BPF instruction and program (linux/filter.h). */
struct sandbox_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

struct sandbox_prog {
	unsigned short len;
	const struct sandbox_insn *filter;
};

#define BPF_LD_W_ABS 0x20	/* A = the 32-bit word at k of seccomp_data */
#define BPF_JEQ_K 0x15		/* A == k ? jt : jf */
#define BPF_RET_K 0x06		/* return k */

/* seccomp_data: nr at 0, arch at 4, then args[6] of 64 bits each. */
#define DATA_NR 0
#define DATA_ARCH 4
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define DATA_ARG0_LOW 20
#else
#define DATA_ARG0_LOW 16
#endif

/* Kernels before 4.14 read KILL_PROCESS as "kill the thread": the
 * daemon has one thread, so both end it. */
#define RET_KILL_PROCESS 0x80000000u
#define RET_ERRNO 0x00050000u
#define RET_ALLOW 0x7fff0000u

#ifndef PR_SET_NO_NEW_PRIVS
#define PR_SET_NO_NEW_PRIVS 38
#endif
#define SECCOMP_MODE_FILTER 2

#define NALLOWED (sizeof(sandbox_allowed) / sizeof(sandbox_allowed[0]))

/* After the table, in this order: the closer looks and the returns.
 * A jump's offset counts the instructions it skips. */
enum {
	T_SOCKET,	/* socket? */
	T_SOCKET_FAMILY,	/* load its first argument */
	T_SOCKET_UNIX,	/* AF_UNIX? */
	T_IOCTL,	/* ioctl? */
	T_KILL,
	T_ENOTTY,
	T_ALLOW,
	T_LEN
};
#define TO(from, to) ((uint8_t)((to) - (from) - 1))
#define INSN(c, t, f, kk) ((struct sandbox_insn){ (c), (t), (f), (kk) })

#define SANDBOX_LEN (4 + NALLOWED + T_LEN)
_Static_assert(NALLOWED + T_LEN <= 255, "a jump offset is 8 bits");

/* Write the filter into code[SANDBOX_LEN]; returns its length. */
static size_t
sandbox_build(struct sandbox_insn *code)
{
	struct sandbox_insn *p = code;
	size_t i;

	/* The architecture, then the number.  On x86_64 the x32 ABI shares
	 * the architecture but sets bit 30 of the number, so its calls
	 * match nothing below and are killed. */
	*p++ = INSN(BPF_LD_W_ABS, 0, 0, DATA_ARCH);
	*p++ = INSN(BPF_JEQ_K, 1, 0, SANDBOX_ARCH);
	*p++ = INSN(BPF_RET_K, 0, 0, RET_KILL_PROCESS);
	*p++ = INSN(BPF_LD_W_ABS, 0, 0, DATA_NR);
	for (i = 0; i < NALLOWED; i++) {
		/* entry i stands NALLOWED - i places before T_SOCKET */
		*p++ = INSN(BPF_JEQ_K, (uint8_t)(NALLOWED - i - 1 + T_ALLOW), 0, sandbox_allowed[i]);
	}
	*p++ = INSN(BPF_JEQ_K, 0, TO(T_SOCKET, T_IOCTL), SYS_socket);
	*p++ = INSN(BPF_LD_W_ABS, 0, 0, DATA_ARG0_LOW);
	*p++ = INSN(BPF_JEQ_K, TO(T_SOCKET_UNIX, T_ALLOW), TO(T_SOCKET_UNIX, T_KILL), AF_UNIX);
	*p++ = INSN(BPF_JEQ_K, TO(T_IOCTL, T_ENOTTY), TO(T_IOCTL, T_KILL), SYS_ioctl);
	*p++ = INSN(BPF_RET_K, 0, 0, RET_KILL_PROCESS);
	*p++ = INSN(BPF_RET_K, 0, 0, RET_ERRNO | ENOTTY);
	*p++ = INSN(BPF_RET_K, 0, 0, RET_ALLOW);
	return (size_t)(p - code);
}

void
sandbox_enter(void)
{
	struct sandbox_insn code[SANDBOX_LEN];	/* once, on the stack: no RAM kept */
	struct sandbox_prog prog;

	prog.len = (unsigned short)sandbox_build(code);
	prog.filter = code;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) {
		log_warnx("sandbox: this kernel cannot filter system calls (%s): running without",
		    strerror(errno));
		return;
	}
	log_info("sandbox: on, %u system calls allowed", (unsigned)NALLOWED + 2);
}

#else

void
sandbox_enter(void)
{
	if (NOMX_SANDBOX) {
		log_warnx("sandbox: no system-call filter for this architecture: running without");
	}
}

#endif

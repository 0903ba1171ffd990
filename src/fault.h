/* SPDX-License-Identifier: ISC */
/*
 * Fault injection for the test build (NOMX_TEST=1) only: the release
 * binary compiles it away.  NOMX_FAULT="writev:3,fdatasync:5" makes the
 * 3rd append and the 5th sync fail, so the tests can drive the real
 * daemon through its 451/452 paths and the tail cut-back.
 *
 * Crash points: NOMX_CRASH="appended:2" ends the process with status
 * 99 (no cleanup, as kill -9 would) the 2nd time it passes the point
 * named "appended".  The points are at every step of the spool's
 * write, sync, rotate, ack and delete paths (grep fault_crash).
 *
 * Forbidden calls: NOMX_FORBID="socket:2" makes the daemon, as it
 * accepts its 2nd client, call what a parser bug turned exploit would:
 * socket() for an Internet socket, or execve() ("execve:N").  The
 * sandbox (sandbox.h) must end the process there.
 */
#ifndef NOMX_FAULT_H
#define NOMX_FAULT_H

#ifndef NOMX_TEST
#define NOMX_TEST 0
#endif

#if NOMX_TEST
/* 1 if this call of `what` is the one to fail. */
int fault_hit(const char *what);
/* Die here if NOMX_CRASH names this point and this pass. */
void fault_crash(const char *point);
/* Make the call NOMX_FORBID names, on its accept. */
void fault_forbidden_call(void);
#else
#define fault_hit(what) 0
#define fault_crash(point) ((void)0)
#define fault_forbidden_call() ((void)0)
#endif

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The running daemon's system-call allowlist (seccomp-BPF).  Installed
 * once start-up is done: sockets bound, key loaded, spool open,
 * privileges dropped, in the background.  From then on a call outside
 * the list ends the process with SIGSYS: a bug in the parser cannot
 * open a socket to the WAN, run a program, or reach another file
 * system object than those the spool folder holds.
 */
#ifndef NOMX_SANDBOX_H
#define NOMX_SANDBOX_H

/* Install the filter (when NOMX_SANDBOX is on).  A kernel that cannot
 * filter system calls is said once in the log, and nomx runs on. */
void sandbox_enter(void);

#endif

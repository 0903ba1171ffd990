/* SPDX-License-Identifier: ISC */
/*
 * `nomx spool follow`: for a script on the device itself (an SMS through
 * the LTE modem, logger, ubus, mosquitto_pub), one line per message as
 * soon as the daemon has answered it 250 (never before), from the
 * moment it starts, across segment rotation, until killed:
 *
 *   SEQ TIME SIZE <sender> <recipient>... Subject: TEXT
 *
 * as `spool ls` then the Subject (SPOOL_FOLLOW_SUBJECT_MAX bytes at
 * most, cut at a character; control characters removed; encoded words
 * left as sent).  It never acknowledges anything.  One follower per
 * spool: it listens on SPOOL_FOLLOW_SOCK in the folder.
 */
#ifndef NOMX_SPOOL_FOLLOW_H
#define NOMX_SPOOL_FOLLOW_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_FOLLOW_SUBJECT_MAX 100

/* Listen for the daemon's word (spool_announce) on the socket name in
 * the working directory, the spool; -1 with errno (EADDRINUSE: another
 * process listens there).  A socket file left by a listener that was
 * killed is taken over. */
int spool_follow_listen(const char *name);

/* The daemon's datagram "FIRST LAST\n", n bytes in word (room for one
 * more): 0 with the two, or -1 if it is not that. */
int spool_follow_word(char *word, size_t n, uint64_t *first, uint64_t *last);

/* Runs until killed or stdout closes; returns the exit code. */
int spool_follow_main(const char *spooldir);

#endif

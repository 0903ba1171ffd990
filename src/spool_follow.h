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

#define SPOOL_FOLLOW_SUBJECT_MAX 100

/* Runs until killed or stdout closes; returns the exit code. */
int spool_follow_main(const char *spooldir);

#endif

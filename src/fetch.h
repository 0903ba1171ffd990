/* SPDX-License-Identifier: ISC */
/*
 * `nomx fetch`: the collecting machine's side (see fetch.c).
 * Exit status: 0 all fetched and acknowledged; 2 transport (ssh,
 * serial, command) failed; 3 a message stayed damaged after the
 * retries; 4 delivery failed (Maildir, mbox, MDA, state file); 5 the
 * device refused the ack; 6 another fetch holds the state file; 7 the
 * mail store (LMTP) refused a message for good; 100 usage.  On every failure nothing that
 * was not durably delivered is acknowledged, so running it again is
 * always safe.
 */
#ifndef NOMX_FETCH_H
#define NOMX_FETCH_H

#define FETCH_EXIT_TRANSPORT 2
#define FETCH_EXIT_DAMAGED 3
#define FETCH_EXIT_OUTPUT 4
#define FETCH_EXIT_ACK 5
#define FETCH_EXIT_BUSY 6
#define FETCH_EXIT_REFUSED 7

int fetch_main(int argc, char **argv);

#endif

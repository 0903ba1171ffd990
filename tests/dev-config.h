/* SPDX-License-Identifier: ISC */
/*
 * The development configuration: used by `make run` and by the
 * integration tests (the build folder build/<board>-dev).  Read before
 * config.h, so everything here wins over its defaults.
 */
#define NOMX_HOSTNAME "mail.example.com"
#define NOMX_STATIC_IP "127.0.0.1"
#define NOMX_STATIC_IP6 "::1"
#define NOMX_LISTEN_ADDR "127.0.0.1"
#define NOMX_LISTEN_ADDR6 "::1"
#define NOMX_SMTP_PORT 2525
#define NOMX_MAILBOXES(M) \
	M("alice", "alice.smith a.smith") \
	M("bob", "") \
	M("postmaster", "")
#define NOMX_MSG_MAX (10L * 1024 * 1024)
#define NOMX_MAX_RCPT 100
/* Three 10 MiB messages at once (the traffic matrix sends one per
 * transport in parallel), or many small ones; room for all of them. */
#define NOMX_STAGE_BYTES (32L * 1024 * 1024)
#define NOMX_QUOTA_BYTES (512L * 1024 * 1024)
/* Short enough for the tests of stalled clients to run quickly. */
#define NOMX_TIMEOUT_CMD 20
#define NOMX_TIMEOUT_DATA 20
#define NOMX_TIMEOUT_WRITE 20
#define NOMX_SHUTDOWN_GRACE 3
/* Long enough that the early-talker test is not a race (its client
 * writes at once after connect(), the pause starts at accept()), and
 * short, because every connection in the suite waits it out. */
#define NOMX_GREET_PAUSE_MS 30
/* The tests (and CI) run as root: drop to a user every Debian has. */
#define NOMX_USER "nobody"
/* The spool lives under the build folder, often on tmpfs-backed /tmp
 * in containers: allow it, with the warning. */
#define NOMX_ALLOW_VOLATILE 1
#define NOMX_MAX_CONN 24
#define NOMX_MAX_CONN_PER_IP 20
/* TLS: key and certificate in the spool folder (made by `nomx keygen`),
 * SMTPS on 2465, a short handshake timeout for the stall test. */
#define NOMX_TLS_KEY "key.pem"
#define NOMX_TLS_CERT "cert.pem"
#define NOMX_SMTPS_PORT 2465
#define NOMX_TLS_SESSIONS 8
#define NOMX_TIMEOUT_TLS 5
/* AUTH offered after STARTTLS, not required. */
#define NOMX_AUTH 1
#define NOMX_AUTH_USERS(U) U("device", "secret") U("scanner", "hunter2")

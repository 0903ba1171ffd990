/* SPDX-License-Identifier: ISC */
/*
 * nomx compile-time configuration.
 *
 * Every knob a device builder sets lives here, each with what it does,
 * what it costs and its default.  Nothing here can be changed at run
 * time except where a command-line flag says so (listen address, port,
 * spool folder, foreground, inetd mode).
 *
 * Overrides work like dropbear's localoptions.h: the board's
 * board/<name>/config.h (or the file its board.mk names in BOARD_CONFIG,
 * e.g. board/router.h) and an optional local file named on the make
 * line (make LOCAL_CONFIG=path/to/file.h) are read first, and every
 * default below is guarded by #ifndef, so whatever they define wins.
 * On/off knobs are 0/1 and tested with #if, never #ifdef.
 * Derived values and sanity checks come last, in one place.
 */
#ifndef NOMX_CONFIG_H
#define NOMX_CONFIG_H

#ifdef NOMX_LOCAL_CONFIG
#include NOMX_LOCAL_CONFIG
#endif
#ifdef NOMX_BOARD_CONFIG
#include NOMX_BOARD_CONFIG
#endif

/* ---- Identity: the two names mail is accepted for ------------------- */

/* The host name: mail to user@NOMX_HOSTNAME is accepted (matched
 * case-insensitively, a trailing dot tolerated).  It is the name in the
 * greeting and in our Received: header.  Needs only an A record. */
#ifndef NOMX_HOSTNAME
#define NOMX_HOSTNAME "mail.example.com"
#endif

/* The static IPv4 address: mail to user@[NOMX_STATIC_IP] (the RFC 5321
 * address literal) is accepted; no other literal ever is.  Default is
 * TEST-NET-1 (RFC 5737): set it to the device's real address. */
#ifndef NOMX_STATIC_IP
#define NOMX_STATIC_IP "192.0.2.1"
#endif

/* The static IPv6 address, or "" for none: mail to
 * user@[IPv6:NOMX_STATIC_IP6] is then accepted, in any spelling of the
 * address (full, "::"-compressed, leading zeros, an IPv4 tail; compared
 * as 128-bit values).  Every other IPv6 literal is refused. */
#ifndef NOMX_STATIC_IP6
#define NOMX_STATIC_IP6 ""
#endif

/* ---- Mailboxes ------------------------------------------------------ */

/* The mailbox table.  Each row is M(mailbox, "secondary addresses"),
 * the secondary addresses (like Exchange's proxy addresses) separated
 * by spaces; all of them deliver into that mailbox.  Local parts match
 * case-insensitively.  "postmaster" always exists (RFC 5321 4.5.1): if
 * the table has no postmaster row, one is added.  Cost: the strings. */
#ifndef NOMX_MAILBOXES
#define NOMX_MAILBOXES(M) \
	M("postmaster", "root abuse")
#endif

/* Catch-all: a mailbox name that receives mail for every unknown local
 * part at our names, or "" for none (unknown local parts get 550 5.1.1). */
#ifndef NOMX_CATCHALL
#define NOMX_CATCHALL ""
#endif

/* ---- Network -------------------------------------------------------- */

/* Addresses to listen on, the same ports on each: IPv4 (a dotted quad,
 * "0.0.0.0" for all) and IPv6 ("::" for all, "::1", "fd00::25").  ""
 * turns that one off.  The -l flag, given once or twice, replaces both.
 * The per-address cap counts an IPv6 client by its /64. */
#ifndef NOMX_LISTEN_ADDR
#define NOMX_LISTEN_ADDR "0.0.0.0"
#endif
#ifndef NOMX_LISTEN_ADDR6
#define NOMX_LISTEN_ADDR6 ""
#endif

/* SMTP port.  The -p flag overrides it. */
#ifndef NOMX_SMTP_PORT
#define NOMX_SMTP_PORT 25
#endif

/* Implicit-TLS ("SMTPS", RFC 8314) port for devices that only know
 * "SSL" on 465; 0 = off.  Needs NOMX_TLS.  The -P flag overrides it. */
#ifndef NOMX_SMTPS_PORT
#define NOMX_SMTPS_PORT 465
#endif

/* Pause before the greeting, in milliseconds.  A client that talks
 * before the greeting (RFC 5321 4.3.1; spam bots and pipelining
 * scripts do) is refused with 554.  0 = greet at once and refuse only
 * input already waiting then.  A pause catches more, but delays every
 * delivery by that much. */
#ifndef NOMX_GREET_PAUSE_MS
#define NOMX_GREET_PAUSE_MS 0
#endif

/* ---- Pools and limits (RAM) ------------------------------------------ */

/* Connection slots.  Each costs 18,520 bytes of static RAM with the
 * defaults (18,096 on the 32-bit boards): a 4 KiB input buffer
 * (NOMX_LINE_MAX when larger), NOMX_OUT_MAX for replies, the recipients
 * (NOMX_MAX_RCPT) and 1.1 KiB of session state.  `nomx -V` prints what
 * each pool of a build takes, and a test holds these comments to it.
 * A full pool answers 421 4.3.2 and closes. */
#ifndef NOMX_MAX_CONN
#define NOMX_MAX_CONN 16
#endif

/* Connections the kernel may hold for nomx before it accepts them
 * (listen(2) backlog, capped by net.core.somaxconn).  Costs no RAM of
 * nomx's, ~2 KiB of kernel memory per waiting connection, and only in
 * a burst.  Too shallow, and a storm makes the kernel drop SYNs: a
 * client arriving then waits a 1 s retransmission (on the test machine,
 * with 64, 12 of a 1,000-connection burst did; with 256, none: the
 * storm test in tests/integration/test_abuse.py prints the count). */
#ifndef NOMX_LISTEN_BACKLOG
#define NOMX_LISTEN_BACKLOG 256
#endif

/* Connections at once from one client address. */
#ifndef NOMX_MAX_CONN_PER_IP
#define NOMX_MAX_CONN_PER_IP 4
#endif

/* Recipients per transaction (RFC 5321 4.5.3.1.8: at least 100).  Each
 * slot keeps its recipients' addresses: 114 bytes each (110 on the
 * 32-bit boards; it grows with NOMX_HOSTNAME), so 100 take 11.1 KiB of
 * every connection slot. */
#ifndef NOMX_MAX_RCPT
#define NOMX_MAX_RCPT 100
#endif

/* Largest message accepted, advertised as SIZE: octets as the client
 * sends them (RFC 1870: CRLFs counted, dot-stuffing not), so a message
 * of exactly SIZE octets is taken; our Received: header comes on top.
 * The staging arena holds it in RAM until it is committed.  Over it:
 * 552 5.3.4. */
#ifndef NOMX_MSG_MAX
#define NOMX_MSG_MAX (1024L * 1024)
#endif

/* RAM staging arena for messages in flight, in bytes.  Bodies are kept
 * here while DATA arrives, so flash sees only accepted mail.  When it
 * runs out the transaction gets 452 4.3.1.  Costs exactly this much RAM
 * (bss: touched pages stay resident). */
#ifndef NOMX_STAGE_BYTES
#define NOMX_STAGE_BYTES (2L * 1024 * 1024)
#endif

/* Staging block size: the unit a message grows by. */
#ifndef NOMX_STAGE_BLOCK
#define NOMX_STAGE_BLOCK (16 * 1024)
#endif

/* Longest command line accepted, CRLF included.  RFC 5321 4.5.3.1.4
 * says 512; we allow more for long MAIL parameters.  Over it: 500 5.5.2
 * and the rest of that line is discarded; the session stays usable. */
#ifndef NOMX_LINE_MAX
#define NOMX_LINE_MAX 1024
#endif

/* Per-slot output buffer for replies (the EHLO reply is ~250 bytes). */
#ifndef NOMX_OUT_MAX
#define NOMX_OUT_MAX 2048
#endif

/* Bad commands before a session is closed with 421 4.7.0. */
#ifndef NOMX_MAX_ERRORS
#define NOMX_MAX_ERRORS 20
#endif

/* A bare LF inside the message of a client whose commands end in CRLF
 * (RFC 5321 2.3.8) never ends a line there, so it can never end DATA
 * early (the SMTP smuggling attacks).  0: refuse the message (550
 * 5.6.0); 1: store it with the bare LF made CRLF, as Postfix's
 * smtpd_forbid_bare_newline = normalize does.  Clients whose commands
 * end in a bare LF are LF clients: for them a LF always ends a line
 * (README "What nomx accepts"). */
#ifndef NOMX_BARE_LF_NORMALIZE
#define NOMX_BARE_LF_NORMALIZE 0
#endif

/* 1: MAIL FROM and RCPT TO need their angle brackets (RFC 5321).  0:
 * "MAIL FROM:ups@example.com", which many devices send, is taken as if
 * bracketed, as Postfix does by default (strict_rfc821_envelopes = no);
 * the recipient rules apply to it exactly as to the bracketed form. */
#ifndef NOMX_STRICT_ENVELOPES
#define NOMX_STRICT_ENVELOPES 0
#endif

/* Received: headers already in a message beyond which it is refused as
 * a mail loop (554 5.4.6; RFC 5321 6.3). */
#ifndef NOMX_MAX_RECEIVED
#define NOMX_MAX_RECEIVED 100
#endif

/* ---- Timeouts (seconds; RFC 5321 4.5.3.2 defaults) ------------------ */

/* Waiting for the next command (4.5.3.2.7: at least 5 minutes). */
#ifndef NOMX_TIMEOUT_CMD
#define NOMX_TIMEOUT_CMD 300
#endif

/* Waiting for more DATA/BDAT bytes (4.5.3.2.5/6 client side: 3 min per
 * block; we wait as long as for a command). */
#ifndef NOMX_TIMEOUT_DATA
#define NOMX_TIMEOUT_DATA 300
#endif

/* Waiting for a client to read our replies. */
#ifndef NOMX_TIMEOUT_WRITE
#define NOMX_TIMEOUT_WRITE 300
#endif

/* ---- When the slots are full (README "When the slots run out") ------ */

/* A session that moved bytes within this many ms is doing work: it is
 * never closed to make room for a new client. */
#ifndef NOMX_WORKING_MS
#define NOMX_WORKING_MS 2000
#endif

/* Stress: from this many sessions in use, every wait for a client (a
 * command, message bytes, reading our replies, a TLS handshake) shrinks
 * to NOMX_STRESS_TIMEOUT seconds and a client may make only
 * NOMX_STRESS_ERRORS errors.  It ends once fewer than half
 * as many sessions have been in use for NOMX_STRESS_TIMEOUT seconds. */
#ifndef NOMX_STRESS_CONN
#define NOMX_STRESS_CONN (NOMX_MAX_CONN * 3 / 4)
#endif
#ifndef NOMX_STRESS_TIMEOUT
#define NOMX_STRESS_TIMEOUT 10
#endif
#ifndef NOMX_STRESS_ERRORS
#define NOMX_STRESS_ERRORS 3
#endif

/* On SIGTERM, how long sessions in DATA may take to finish. */
#ifndef NOMX_SHUTDOWN_GRACE
#define NOMX_SHUTDOWN_GRACE 10
#endif

/* ---- Spool (flash) -------------------------------------------------- */

/* Spool folder (created if missing).  The -s flag overrides it.  It is
 * also the chroot.  On OpenWrt prefer the overlay's upper filesystem;
 * never tmpfs unless NOMX_ALLOW_VOLATILE. */
#ifndef NOMX_SPOOL_DIR
#define NOMX_SPOOL_DIR "/var/spool/nomx"
#endif

/* Segment size: a segment is sealed and a new one begun past this.  A
 * multiple of erase blocks (64 KiB NOR, 128 KiB UBI LEB); one file is
 * created and later unlinked per segment, never per message. */
#ifndef NOMX_SEG_MAX
#define NOMX_SEG_MAX (1024L * 1024)
#endif

/* Group commit window (ms).  A finished message waits for the sync
 * that makes it durable; when other sessions are in the middle of a
 * transaction and moved bytes within this window, the sync waits for
 * them, up to this long after the first waiting message, so that one
 * sync (one flash page programmed, one inode written) covers several
 * messages.  A lone sender is never held.  0: sync every loop pass.
 * The router boards set 30 (board/router.h says why). */
#ifndef NOMX_COMMIT_WINDOW_MS
#define NOMX_COMMIT_WINDOW_MS 10
#endif

/* Quota: bytes of spool (all segments), and stored messages.  Over
 * either: 452 4.3.1 until the collector fetches. */
#ifndef NOMX_QUOTA_BYTES
#define NOMX_QUOTA_BYTES (4L * 1024 * 1024)
#endif
#ifndef NOMX_QUOTA_MSGS
#define NOMX_QUOTA_MSGS 10000
#endif

/* Free space the filesystem must keep for itself (JFFS2/UBIFS garbage
 * collection needs free blocks): mail is refused (452 4.3.1) rather
 * than eat into it.  Checked with statvfs before each commit. */
#ifndef NOMX_FS_RESERVE
#define NOMX_FS_RESERVE (256L * 1024)
#endif

/* Run with the spool on tmpfs/ramfs (where 250 does not survive power
 * loss).  0: refuse to start there; 1: start and warn. */
#ifndef NOMX_ALLOW_VOLATILE
#define NOMX_ALLOW_VOLATILE 0
#endif

/* ---- Process -------------------------------------------------------- */

/* User to drop to after binding (when started as root); "" = stay. */
#ifndef NOMX_USER
#define NOMX_USER "nomx"
#endif

/* chroot into the spool folder after start-up (when started as root). */
#ifndef NOMX_CHROOT
#define NOMX_CHROOT 1
#endif

/* Once start-up is done, allow only the system calls the mail loop
 * makes (seccomp-BPF, src/sandbox.c; README "Security"): any other
 * call ends the process.  A kernel without seccomp filters is said
 * once in the log, and nomx runs on without. */
#ifndef NOMX_SANDBOX
#define NOMX_SANDBOX 1
#endif

/* Log target: 0 = stderr when in the foreground, syslog otherwise;
 * 1 = always syslog; 2 = always stderr. */
#ifndef NOMX_LOG_TARGET
#define NOMX_LOG_TARGET 0
#endif

/* syslog facility. */
#ifndef NOMX_LOG_FACILITY
#define NOMX_LOG_FACILITY LOG_MAIL
#endif

/* ---- TLS (BearSSL) ------------------------------------------------- */

/* STARTTLS on the SMTP port and implicit TLS on NOMX_SMTPS_PORT.  Costs
 * about 75 KiB of flash (the BearSSL pieces of the profile below) and
 * NOMX_TLS_SESSIONS engines of RAM.  0 leaves BearSSL's TLS code out. */
#ifndef NOMX_TLS
#define NOMX_TLS 1
#endif

/* Private key (EC P-256, or RSA with NOMX_TLS_RSA) and certificate
 * chain (leaf first, then intermediates), PEM.  Read at start before
 * privilege drop, and again on SIGHUP.  A relative path is inside the
 * spool folder: that is the one place still reachable after the chroot,
 * so only relative paths can be reloaded by SIGHUP when NOMX_CHROOT is
 * on.  `nomx keygen` writes both. */
#ifndef NOMX_TLS_KEY
#define NOMX_TLS_KEY "/etc/nomx/key.pem"
#endif
#ifndef NOMX_TLS_CERT
#define NOMX_TLS_CERT "/etc/nomx/cert.pem"
#endif

/* Validity of the certificate `nomx keygen` makes, in days from when it
 * runs.  397 is the most that clients and scanners accept for a server
 * certificate today (testssl.sh rates longer as HIGH); renew it with
 * `nomx keygen -f` and a SIGHUP, e.g. monthly from cron (README, "TLS").
 * keygen refuses to date a certificate by a clock that was never set.
 * 0: no expiry (RFC 5280's 99991231235959Z), for a device whose clock
 * cannot be trusted and whose clients do not check dates. */
#ifndef NOMX_CERT_DAYS
#define NOMX_CERT_DAYS 397
#endif

/* Key or certificate missing or unreadable at start: 1 = exit with an
 * error (the safe choice when clients require TLS), 0 = log it and
 * serve plain SMTP without STARTTLS or the SMTPS port. */
#ifndef NOMX_TLS_REQUIRED
#define NOMX_TLS_REQUIRED 0
#endif

/* TLS engines, shared by all connections: each costs 25,040 bytes of
 * RAM (24,680 on the 32-bit boards): BearSSL's 16.7 KiB input buffer
 * for a full record, a 4 KiB output buffer and the 4 KiB context.  When all are busy, STARTTLS
 * gets 454 4.7.0 and an SMTPS connection is closed. */
#ifndef NOMX_TLS_SESSIONS
#define NOMX_TLS_SESSIONS 4
#endif

/* TLS session resumption (RFC 5246 session IDs): the bytes of RAM
 * for BearSSL's LRU cache of finished sessions, 100 bytes per session
 * (4096: the last 40 clients).  A client that resumes skips the
 * key exchange and the signature, most of a handshake's CPU.  The cache
 * is emptied when the key is reloaded (SIGHUP).  The code costs 868
 * bytes of flash on mipsel, 1,408 on armv7.  0: no resumption. */
#ifndef NOMX_TLS_SESSION_CACHE
#define NOMX_TLS_SESSION_CACHE 4096
#endif

/* ECDHE over X25519 as well as P-256, preferred when the client offers
 * it: a cheaper key exchange (a full handshake took 2.2 ms of CPU
 * instead of 3.0 on x86_64 in `make bench`), for 3,412 bytes of flash
 * on mipsel and 1,624 on armv7 (so board/router.h turns it off).  Off:
 * P-256 only.  The certificate stays ECDSA P-256. */
#ifndef NOMX_TLS_X25519
#define NOMX_TLS_X25519 1
#endif

/* The AES-256-GCM suites and the SHA-384 they need for the handshake:
 * BearSSL's 64-bit SHA-2 code, 4,636 bytes of flash on mipsel and 3,880
 * on armv7 (so board/router.h turns it off).  Off: ChaCha20-Poly1305
 * and AES-128-GCM only, which every TLS 1.2 client that offers
 * AES-256-GCM offers too; the handshake is signed with SHA-256. */
#ifndef NOMX_TLS_SHA384
#define NOMX_TLS_SHA384 1
#endif

/* RSA keys and the ECDHE_RSA suites: about 10 KiB more flash.  Off:
 * only ECDSA P-256 keys (what `nomx keygen` makes). */
#ifndef NOMX_TLS_RSA
#define NOMX_TLS_RSA 0
#endif

/* Accept TLS 1.0 and 1.1 and the AES-CBC suites for old devices: about
 * 8 KiB more flash.  Off: TLS 1.2 only, AEAD suites only. */
#ifndef NOMX_TLS_LEGACY
#define NOMX_TLS_LEGACY 0
#endif

/* Certificate chain, total DER bytes (static RAM, twice: reloads fill
 * the spare copy while handshakes may still use the old one). */
#ifndef NOMX_TLS_CHAIN_MAX
#define NOMX_TLS_CHAIN_MAX 8192
#endif

/* A client that has not finished the handshake after this many seconds
 * is dropped. */
#ifndef NOMX_TIMEOUT_TLS
#define NOMX_TIMEOUT_TLS 30
#endif

/* ---- AUTH, for devices that insist on it ---------------------------- */

/* AUTH PLAIN and AUTH LOGIN (RFC 4954).  AUTH never widens what is
 * accepted: nomx never relays, authenticated or not.  It exists because
 * some scanners refuse to send without it.  About 1.5 KiB of flash. */
#ifndef NOMX_AUTH
#define NOMX_AUTH 0
#endif

/* The credentials: U("user", "password") entries.  Compiled in, so a
 * firmware image with AUTH carries them; use per-device secrets. */
#ifndef NOMX_AUTH_USERS
#define NOMX_AUTH_USERS(U) U("device", "change-me")
#endif

/* 1: any user name and password succeed (for devices whose settings
 * cannot be left empty). */
#ifndef NOMX_AUTH_ANY
#define NOMX_AUTH_ANY 0
#endif

/* 1: MAIL is refused (530 5.7.0) until the client has authenticated. */
#ifndef NOMX_AUTH_REQUIRED
#define NOMX_AUTH_REQUIRED 0
#endif

/* 1: offer AUTH without TLS too (passwords in clear on the wire; only
 * for legacy devices on a closed network).  0: only after STARTTLS or
 * on the SMTPS port. */
#ifndef NOMX_AUTH_PLAINTEXT
#define NOMX_AUTH_PLAINTEXT 0
#endif

/* ---- Fetch ---------------------------------------------------------- */

/* `nomx fetch`, the collector's side, in the same binary (about 10 KiB).
 * Devices need only `nomx spool export` and `ack`; a board whose image
 * is never used as a collector may set 0. */
#ifndef NOMX_FETCH
#define NOMX_FETCH 1
#endif

/* Trace every session state change to the log (debugging builds). */
#ifndef NOMX_TRACE
#define NOMX_TRACE 0
#endif

/* ---- Derived values and checks (one place, after all overrides) ----- */

#define NOMX_STAGE_NBLOCKS (NOMX_STAGE_BYTES / NOMX_STAGE_BLOCK)
/* Blocks one message can hold, plus the record header, envelope,
 * Received: header and trailer: all of it goes in one writev. */
#define NOMX_MSG_NBLOCKS ((NOMX_MSG_MAX + NOMX_STAGE_BLOCK - 1) / NOMX_STAGE_BLOCK)
#define NOMX_IOV_MAX (NOMX_MSG_NBLOCKS + 4)

_Static_assert(NOMX_MAX_CONN >= 1 && NOMX_MAX_CONN <= 1000, "NOMX_MAX_CONN out of range");
_Static_assert(NOMX_MAX_CONN_PER_IP >= 1, "NOMX_MAX_CONN_PER_IP must be >= 1");
_Static_assert(NOMX_MAX_RCPT >= 100, "RFC 5321 4.5.3.1.8: at least 100 recipients");
_Static_assert(NOMX_LINE_MAX >= 512, "RFC 5321 4.5.3.1.4: command lines of 512 octets");
_Static_assert(NOMX_OUT_MAX >= 1024, "NOMX_OUT_MAX too small for the EHLO reply");
_Static_assert(NOMX_STAGE_BLOCK >= 4096 && NOMX_STAGE_BLOCK % 4096 == 0,
    "NOMX_STAGE_BLOCK must be a multiple of 4 KiB");
_Static_assert(NOMX_STAGE_BYTES >= NOMX_MSG_MAX, "staging arena smaller than one message");
_Static_assert(NOMX_IOV_MAX <= 1024, "NOMX_MSG_MAX/NOMX_STAGE_BLOCK exceeds IOV_MAX");
_Static_assert(NOMX_SEG_MAX >= 64 * 1024, "NOMX_SEG_MAX below one erase block");
_Static_assert(NOMX_QUOTA_BYTES >= NOMX_MSG_MAX, "quota smaller than one message");
_Static_assert(NOMX_TIMEOUT_CMD > 0 && NOMX_TIMEOUT_DATA > 0 && NOMX_TIMEOUT_WRITE > 0,
    "timeouts must be positive");
_Static_assert(NOMX_TLS_SESSIONS >= 1 && NOMX_TLS_SESSIONS <= NOMX_MAX_CONN,
    "NOMX_TLS_SESSIONS must be between 1 and NOMX_MAX_CONN");
_Static_assert(NOMX_TLS_CHAIN_MAX >= 1024, "NOMX_TLS_CHAIN_MAX too small for a certificate");
_Static_assert(NOMX_TIMEOUT_TLS > 0, "NOMX_TIMEOUT_TLS must be positive");
_Static_assert(NOMX_STRESS_CONN >= 1 && NOMX_STRESS_CONN <= NOMX_MAX_CONN,
    "NOMX_STRESS_CONN must be 1..NOMX_MAX_CONN");
_Static_assert(NOMX_STRESS_TIMEOUT > 0 && NOMX_STRESS_ERRORS >= 1 && NOMX_WORKING_MS >= 0,
    "NOMX_STRESS_TIMEOUT and NOMX_STRESS_ERRORS must be positive");
_Static_assert(NOMX_COMMIT_WINDOW_MS >= 0 && NOMX_COMMIT_WINDOW_MS <= 1000,
    "NOMX_COMMIT_WINDOW_MS must be 0..1000");
_Static_assert(NOMX_CERT_DAYS >= 0 && NOMX_CERT_DAYS <= 36500, "NOMX_CERT_DAYS out of range");
_Static_assert(!NOMX_AUTH_REQUIRED || NOMX_AUTH, "NOMX_AUTH_REQUIRED needs NOMX_AUTH");
_Static_assert(!NOMX_AUTH || NOMX_TLS || NOMX_AUTH_PLAINTEXT,
    "NOMX_AUTH without TLS needs NOMX_AUTH_PLAINTEXT");
_Static_assert(sizeof(NOMX_HOSTNAME) > 1 && sizeof(NOMX_HOSTNAME) <= 256, "bad NOMX_HOSTNAME");

#endif

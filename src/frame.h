/* SPDX-License-Identifier: ISC */
/*
 * The export stream's lines (nomx-spool(5)): 7-bit text, one
 * record per line, each ending in " *<crc32c hex>" over everything
 * before it, so a line that a console mangled is detected and anything
 * that is not one of our lines (prompts, echo, kernel messages) is
 * skipped.  The encoder runs on the device, the decoder in `nomx fetch`.
 *
 *   @@NMX BEGIN v1 dev=<id> sess=<token> from=<seq> last=<seq> n=<count>
 *   @@NMX MSG <seq> env=<bytes> body=<bytes> crc=<crc32c> t=<ms>
 *   @@NMX D <seq> <line> <base64 of up to 57 bytes>
 *   @@NMX EOM <seq> lines=<n>
 *   @@NMX END last=<seq> n=<count>
 *   @@NMX ACKED <seq>            (answer to `spool ack`)
 *   @@NMX NAK <reason>           (a refused ack)
 *   @@NMX ALIVE last=<seq>       (export --follow, idle: the link is up)
 */
#ifndef NOMX_FRAME_H
#define NOMX_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_TAG "@@NMX "
#define FRAME_DATA_BYTES 57		/* raw bytes per D line: 76 base64 chars */
#define FRAME_LINE_MAX 160		/* longest line we write or accept */
#define FRAME_TOKEN_MAX 64

enum frame_type {
	FRAME_BEGIN = 1,
	FRAME_MSG,
	FRAME_D,
	FRAME_EOM,
	FRAME_END,
	FRAME_ACKED,
	FRAME_NAK,
	FRAME_ALIVE,
};

struct frame {
	enum frame_type type;
	uint64_t seq;		/* MSG, D, EOM, ACKED; BEGIN: from */
	uint64_t last;		/* BEGIN, END, ALIVE */
	uint64_t n;		/* BEGIN, END: count; D: line number; EOM: lines */
	uint64_t t_ms;		/* MSG */
	uint32_t env_len, body_len, crc;	/* MSG */
	char dev[17];		/* BEGIN */
	char token[FRAME_TOKEN_MAX];	/* BEGIN */
	unsigned char data[FRAME_DATA_BYTES];	/* D */
	size_t data_len;
	char reason[64];	/* NAK */
};

/* Finish a line: append " *<crc>\n" to buf[0..len) (room for 12 more
 * bytes needed); returns the new length. */
size_t frame_seal(char *buf, size_t len);

/* Parse one received line (no line ending needed; trailing CR, spaces
 * and anything before the last "@@NMX " are ignored).  1: a valid
 * frame; 0: not one of ours; -1: ours but damaged or malformed. */
int frame_parse(const char *line, size_t len, struct frame *f);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Export lines into messages (see fetch_stream.h).  Each MSG line
 * starts a message; its D lines must come numbered in order, the last
 * one's bytes exactly fill the envelope and body the MSG line
 * announced, and EOM must agree on the line count and the CRC-32C of
 * everything.  Only then is the message delivered.
 *
 * A whole message can vanish without a damaged line: a console that
 * drops bytes from inside one MSG line to the start of the line after
 * its EOM leaves only valid lines (the parser takes the last "@@NMX "
 * of a line).  So the sequence numbers are checked too: from..last
 * holds n messages, and a spool has a missing number only where a sync
 * failed, so a MSG may skip numbers only while BEGIN's count leaves
 * room for it.  Delivery is in order and the ack covers everything up
 * to it: a skipped message would be acknowledged unseen.
 */
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "crc32c.h"
#include "fetch_stream.h"
#include "fmt.h"

#if NOMX_FETCH	/* the collector's side: not on a router (board/router.h) */

void
fetch_stream_reset(struct fetch_session *fs)
{
	int body_fd = fs->body_fd;
	fetch_deliver_fn *deliver = fs->deliver;
	void *ctx = fs->ctx;

	memset(fs, 0, sizeof(*fs));
	fs->body_fd = body_fd;
	fs->deliver = deliver;
	fs->ctx = ctx;
}


static void
fetch_msg_begin(struct fetch_session *fs, const struct frame *f)
{
	if (f->seq < fs->next_seq || f->seq > fs->last || f->seq - fs->next_seq > fs->spare) {
		fs->damaged = 1;	/* a message went missing in transit */
		return;
	}
	fs->spare -= f->seq - fs->next_seq;
	fs->next_seq = f->seq + 1;
	fs->seen++;
	fs->in_msg = 1;
	fs->msg = *f;
	fs->next_line = 1;
	fs->got = 0;
	fs->crc = 0;
	if (ftruncate(fs->body_fd, 0) < 0) {
		fs->failed_output = 1;
	}
	if (f->env_len > sizeof(fs->env)) {
		fs->damaged = 1;
	}
}

static void
fetch_msg_data(struct fetch_session *fs, const struct frame *f)
{
	const unsigned char *p = f->data;
	size_t n = f->data_len;
	uint64_t total = (uint64_t)fs->msg.env_len + fs->msg.body_len;

	if (f->seq != fs->msg.seq || f->n != fs->next_line || fs->got + n > total) {
		fs->damaged = 1;	/* a line went missing or out of order */
		return;
	}
	fs->next_line++;
	fs->crc = crc32c(fs->crc, p, n);
	if (fs->got < fs->msg.env_len) {
		size_t k = fs->msg.env_len - fs->got < n ? (size_t)(fs->msg.env_len - fs->got) : n;
		memcpy(fs->env + fs->got, p, k);
		fs->got += k;
		p += k;
		n -= k;
	}
	if (n > 0 && pwrite(fs->body_fd, p, n, (off_t)(fs->got - fs->msg.env_len)) != (ssize_t)n) {
		fs->failed_output = 1;
	}
	fs->got += n;
}

static void
fetch_msg_end(struct fetch_session *fs, const struct frame *f)
{
	struct fetch_msg m;

	fs->in_msg = 0;
	if (fs->damaged || f->seq != fs->msg.seq || f->n != fs->next_line - 1 ||
	    fs->got != (uint64_t)fs->msg.env_len + fs->msg.body_len || fs->crc != fs->msg.crc) {
		fs->damaged = 1;
		return;
	}
	if (fs->failed_output) {
		return;
	}
	m = (struct fetch_msg){ fs->msg.seq, fs->msg.t_ms, fs->env, fs->msg.env_len,
		fs->body_fd, fs->msg.body_len };
	if (fs->deliver(fs->ctx, fs->dev, &m) < 0) {
		fs->failed_output = 1;
		return;
	}
	fs->delivered = fs->msg.seq;
}

int
fetch_stream_line(struct fetch_session *fs, const char *line, size_t len)
{
	struct frame f;
	int r = frame_parse(line, len, &f);

	if (r == 0) {
		return 0;		/* a prompt, echo, a kernel message: not ours */
	}
	if (r < 0) {
		if (fs->begun) {
			fs->damaged |= fs->in_msg || fs->begun;	/* this line is lost */
		}
		return 0;
	}
	switch (f.type) {
	case FRAME_BEGIN:
		memset(fs->dev, 0, sizeof(fs->dev));
		memcpy(fs->dev, f.dev, sizeof(fs->dev) - 1);
		fmt_buf(fs->token, sizeof(fs->token), "%s", f.token);
		fs->from = f.seq;
		fs->last = f.last;
		fs->n = f.n;
		fs->next_seq = f.seq;
		fs->spare = f.last + 1 - f.seq >= f.n ? f.last + 1 - f.seq - f.n : 0;
		fs->begun = 1;
		break;
	case FRAME_MSG:
		if (fs->begun && !fs->damaged) {
			if (fs->in_msg) {
				fs->damaged = 1;	/* the EOM went missing */
			} else {
				fetch_msg_begin(fs, &f);
			}
		}
		break;
	case FRAME_D:
		if (fs->in_msg && !fs->damaged) {
			fetch_msg_data(fs, &f);
		}
		break;
	case FRAME_EOM:
		if (fs->in_msg && !fs->damaged) {
			fetch_msg_end(fs, &f);
		}
		break;
	case FRAME_END:
		if (fs->begun) {
			if (fs->in_msg || f.last != fs->last || f.n != fs->n ||
			    (!fs->damaged && fs->seen != fs->n)) {
				fs->damaged = 1;
			}
			fs->ended = 1;
			return 1;
		}
		break;
	case FRAME_ACKED:
		fs->acked = f.seq;
		fs->got_ack = 1;
		return 1;
	case FRAME_NAK:
		fmt_buf(fs->nak_reason, sizeof(fs->nak_reason), "%s", f.reason);
		fs->nak = 1;
		return 1;
	case FRAME_ALIVE:
		break;		/* only that the link is up: the reader's clock */
	}
	return 0;
}

#endif

/* The multiplexer as a connected peer drives it: v1 and v2 messages whole or split
 * anywhere, interleaved with what the server side does (open, write, pause, close) and
 * the passing of time, through the real mux with a fake websocket below it. */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mux.h"
#include "script.h"

#define USERS 8

struct user {
	struct exposr_stream *stream;
	void *token; /* an open under way */
	bool paused;
};

static struct {
	struct mux *m;
	uint64_t now;
	bool writable;
	struct user users[USERS];
} fk;

static int fake_send(void *arg, const uint8_t *head, size_t head_len, struct evbuffer *payload,
                     size_t len)
{
	(void)arg;
	(void)head;
	(void)head_len;
	if (len > 0)
		evbuffer_drain(payload, len);
	return EXPOSR_OK;
}

static bool fake_writable(void *arg)
{
	(void)arg;
	return fk.writable;
}

static void fake_wake(void *arg)
{
	(void)arg;
}

static void fake_fail(void *arg, uint16_t code, const char *reason)
{
	(void)arg;
	(void)code;
	(void)reason;
}

static uint64_t fake_now(void *arg)
{
	(void)arg;
	return fk.now;
}

static const struct mux_ops fake_ops = {
        .send = fake_send,
        .writable = fake_writable,
        .wake = fake_wake,
        .fail = fake_fail,
        .now = fake_now,
};

static void on_data(void *arg, struct exposr_stream *s, struct evbuffer *data)
{
	(void)arg;
	(void)s;
	evbuffer_drain(data, evbuffer_get_length(data));
}

static void on_drained(void *arg, struct exposr_stream *s)
{
	(void)arg;
	(void)s;
}

static void on_closed(void *arg, struct exposr_stream *s, bool error)
{
	(void)error;
	struct user *u = arg;
	s->vt->close(s);
	u->stream = NULL;
}

static const struct exposr_stream_callbacks user_cbs = {
        .on_data = on_data, .on_drained = on_drained, .on_closed = on_closed};

static void on_open(void *arg, int status, struct exposr_stream *stream)
{
	(void)status;
	struct user *u = arg;
	u->token = NULL;
	u->stream = stream;
	if (stream != NULL)
		stream->vt->set_callbacks(stream, &user_cbs, u);
}

static void user_act(struct user *u, uint8_t op, struct script *s)
{
	switch (op % 6) {
	case 0:
		if (u->stream == NULL && u->token == NULL) {
			u->token = (void *)1; /* mux_open may call back before it returns */
			void *token = mux_open(fk.m, on_open, u);
			if (u->token != NULL)
				u->token = token;
		}
		break;
	case 1:
		if (u->token != NULL) {
			mux_cancel_open(fk.m, u->token);
			u->token = NULL;
		}
		break;
	case 2:
		if (u->stream != NULL) {
			size_t len;
			const uint8_t *bytes = take_bytes(s, take_u8(s), &len);
			struct evbuffer *b = evbuffer_new();
			if (b != NULL && evbuffer_add(b, bytes, len) == 0)
				u->stream->vt->write(u->stream, b);
			evbuffer_free(b);
		}
		break;
	case 3:
		if (u->stream != NULL) {
			if (u->paused)
				u->stream->vt->resume_read(u->stream);
			else
				u->stream->vt->pause_read(u->stream);
			u->paused = !u->paused;
		}
		break;
	case 4:
		if (u->stream != NULL) {
			struct exposr_stream *stream = u->stream;
			u->stream = NULL;
			stream->vt->close(stream);
		}
		break;
	default:
		if (u->stream != NULL)
			u->stream->vt->set_low_water(u->stream, take_u16(s));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	memset(&fk, 0, sizeof(fk));
	fk.now = 1000000;
	fk.writable = true;
	fk.m = mux_new(&fake_ops, NULL);
	if (fk.m == NULL)
		return 0;
	struct script s = {data, size};
	while (s.left > 0) {
		uint8_t op = take_u8(&s);
		size_t len;
		const uint8_t *bytes;
		switch (op & 7) {
		case 0: /* a whole message */
			bytes = take_bytes(&s, take_u8(&s), &len);
			mux_input(fk.m, bytes, len);
			break;
		case 1: { /* a message in pieces */
			unsigned pieces = take_u8(&s) % 8;
			mux_input_begin(fk.m);
			for (unsigned i = 0; i < pieces; i++) {
				bytes = take_bytes(&s, take_u8(&s) % 32, &len);
				mux_input_part(fk.m, bytes, len);
			}
			mux_input_end(fk.m);
			break;
		}
		case 2:
		case 3:
			user_act(&fk.users[(op >> 3) % USERS], take_u8(&s), &s);
			break;
		case 4: /* time passes */
			fk.now += (uint64_t)take_u16(&s) * 16;
			mux_run(fk.m);
			break;
		case 5:
			fk.writable = !fk.writable;
			if (fk.writable)
				mux_pump(fk.m);
			break;
		case 6:
			mux_run(fk.m);
			break;
		default:
			if (op & 8)
				mux_close_all(fk.m);
			break;
		}
	}
	/* The websocket goes; users let go of what they hold. */
	mux_detach(fk.m);
	mux_run(fk.m);
	for (size_t i = 0; i < USERS; i++)
		if (fk.users[i].stream != NULL)
			fk.users[i].stream->vt->close(fk.users[i].stream);
	mux_run(fk.m);
	mux_free(fk.m);
	return 0;
}

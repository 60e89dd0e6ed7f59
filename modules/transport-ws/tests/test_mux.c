/* Unit tests of the multiplexer's state machine, driven through a fake websocket. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "mux.h"
#include "tests/hex.h"

#define MAX_SENT 512

/* The fake websocket below the multiplexer. */
struct fake {
	struct mux *m;
	uint64_t now;
	bool writable;
	bool keep; /* record sent messages */
	unsigned wakes;
	uint16_t fail_code;
	uint8_t *sent[MAX_SENT];
	size_t sent_len[MAX_SENT];
	size_t count, cursor;
	size_t total_sent;
	long channels; /* created minus freed, as reported by channels_changed */
};

static struct fake fk;

static int fake_send(void *arg, const uint8_t *head, size_t head_len, struct evbuffer *payload,
                     size_t len)
{
	(void)arg;
	fk.total_sent++;
	if (!fk.keep || fk.count == MAX_SENT) {
		if (len > 0)
			evbuffer_drain(payload, len);
		return EXPOSR_OK;
	}
	uint8_t *msg = malloc(head_len + len + 1);
	cr_assert_not_null(msg);
	memcpy(msg, head, head_len);
	if (len > 0)
		cr_assert_eq(evbuffer_remove(payload, msg + head_len, len), (int)len);
	fk.sent[fk.count] = msg;
	fk.sent_len[fk.count] = head_len + len;
	fk.count++;
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
	fk.wakes++;
}

static void fake_fail(void *arg, uint16_t code, const char *reason)
{
	(void)arg;
	(void)reason;
	fk.fail_code = code;
}

static uint64_t fake_now(void *arg)
{
	(void)arg;
	return fk.now;
}

static void fake_channels_changed(void *arg, int delta)
{
	(void)arg;
	fk.channels += delta;
	cr_assert_geq(fk.channels, 0, "more channels freed than created");
}

static const struct mux_ops fake_ops = {
        .send = fake_send,
        .writable = fake_writable,
        .wake = fake_wake,
        .fail = fake_fail,
        .now = fake_now,
        .channels_changed = fake_channels_changed,
};

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.now = 1000000;
	fk.writable = true;
	fk.keep = true;
	fk.m = mux_new(&fake_ops, NULL);
	cr_assert_not_null(fk.m);
}

static void teardown(void)
{
	mux_free(fk.m);
	cr_expect_eq(fk.channels, 0, "every channel created was reported freed");
	for (size_t i = 0; i < fk.count; i++)
		free(fk.sent[i]);
}

TestSuite(mux, .init = setup, .fini = teardown);

/* The next message the multiplexer sent must be exactly these bytes. */
static void expect_sent(const char *hex)
{
	uint8_t want[256];
	size_t n = unhex(hex, want);
	cr_assert_lt(fk.cursor, fk.count, "nothing sent, expected %s", hex);
	cr_assert_eq(fk.sent_len[fk.cursor], n, "expected %s: length %zu, got %zu", hex, n,
	             fk.sent_len[fk.cursor]);
	cr_assert_arr_eq(fk.sent[fk.cursor], want, n, "expected %s", hex);
	fk.cursor++;
}

static void expect_nothing_sent(void)
{
	cr_assert_eq(fk.cursor, fk.count, "%zu unexpected message(s)", fk.count - fk.cursor);
}

static void input(const char *hex)
{
	uint8_t msg[256];
	size_t n = unhex(hex, msg);
	mux_input(fk.m, msg, n);
}

/* One ingress side: what the channel's user sees. */
struct user {
	int status;
	bool called;
	struct exposr_stream *stream;
	struct evbuffer *data;
	bool closed;
	bool error;
	unsigned drained;
	bool close_in_callback;
};

static void on_data(void *arg, struct exposr_stream *s, struct evbuffer *data)
{
	(void)s;
	struct user *u = arg;
	evbuffer_add_buffer(u->data, data);
}

static void on_drained(void *arg, struct exposr_stream *s)
{
	(void)s;
	((struct user *)arg)->drained++;
}

static void on_closed(void *arg, struct exposr_stream *s, bool error)
{
	struct user *u = arg;
	u->closed = true;
	u->error = error;
	if (u->close_in_callback) {
		s->vt->close(s);
		u->stream = NULL;
	}
}

static const struct exposr_stream_callbacks user_cbs = {
        .on_data = on_data, .on_drained = on_drained, .on_closed = on_closed};

static void on_open(void *arg, int status, struct exposr_stream *stream)
{
	struct user *u = arg;
	u->called = true;
	u->status = status;
	u->stream = stream;
	if (stream != NULL)
		stream->vt->set_callbacks(stream, &user_cbs, u);
}

static void user_init(struct user *u)
{
	memset(u, 0, sizeof(*u));
	u->data = evbuffer_new();
}

static void user_fini(struct user *u)
{
	if (u->stream != NULL)
		u->stream->vt->close(u->stream);
	u->stream = NULL;
	evbuffer_free(u->data);
}

static void *open_for(struct user *u)
{
	user_init(u);
	return mux_open(fk.m, on_open, u);
}

static void user_write(struct user *u, const char *text)
{
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, text, strlen(text));
	cr_assert_eq(u->stream->vt->write(u->stream, b), EXPOSR_OK);
	evbuffer_free(b);
}

static bool user_got(struct user *u, const char *text)
{
	size_t n = strlen(text);
	if (evbuffer_get_length(u->data) != n)
		return false;
	return memcmp(evbuffer_pullup(u->data, -1), text, n) == 0;
}

/* Opens channel 1 on a fresh connection and makes it v2. */
static void open_first_v2(struct user *u)
{
	cr_assert_not_null(open_for(u));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0002 0003 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert(u->called);
	cr_assert_eq(u->status, EXPOSR_OK);
	cr_assert_eq(mux_version(fk.m), MUX_V2);
}

Test(mux, worked_example_v2)
{
	struct user u;
	/* 1-2: OPEN, ACK; the open callback runs from the loop, not from mux_input. */
	cr_assert_not_null(open_for(&u));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0002 0003 00000001 00000001 00000000");
	cr_assert_not(u.called);
	mux_run(fk.m);
	cr_assert(u.called);
	cr_assert_eq(u.status, EXPOSR_OK);
	/* 3: DATA "hello". */
	user_write(&u, "hello");
	expect_sent("0002 0001 00000001 00000001 00000005 68656c6c6f");
	/* 4: PAUSE: nothing is sent until RESUME, the bytes wait in the output. */
	input("0002 0005 00000001 00000001 00000000");
	user_write(&u, "more");
	expect_nothing_sent();
	cr_assert_eq(u.stream->vt->output_length(u.stream), 4);
	/* 5: RESUME flushes. */
	input("0002 0006 00000001 00000001 00000000");
	expect_sent("0002 0001 00000001 00000001 00000004 6d6f7265");
	cr_assert_eq(u.stream->vt->output_length(u.stream), 0);
	/* 6: DATA "ok" from the target. */
	input("0002 0001 00000001 00000001 00000002 6f6b");
	mux_run(fk.m);
	cr_assert(user_got(&u, "ok"));
	/* 7-8: CLOSE, ACK: the channel is gone. */
	u.stream->vt->close(u.stream);
	u.stream = NULL;
	expect_sent("0002 0004 00000001 00000001 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 1);
	input("0002 0003 00000001 00000001 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 0);
	cr_assert(mux_idle(fk.m));
	expect_nothing_sent();
	user_fini(&u);
}

/* The websocket hands messages over as their frames arrive: cut anywhere, the header too. */
static void input_in_pieces(const char *hex, size_t piece)
{
	uint8_t msg[256];
	size_t n = unhex(hex, msg);
	mux_input_begin(fk.m);
	for (size_t at = 0; at < n; at += piece)
		mux_input_part(fk.m, msg + at, n - at < piece ? n - at : piece);
	mux_input_end(fk.m);
}

Test(mux, messages_in_pieces)
{
	struct user u;
	open_first_v2(&u);
	input_in_pieces("0002 0001 00000001 00000001 00000005 68656c6c6f", 1);
	input_in_pieces("0002 0001 00000001 00000001 00000003 616263", 7);
	mux_run(fk.m);
	cr_assert(user_got(&u, "helloabc"));
	/* DATA for nobody is answered once, whatever the pieces. */
	input_in_pieces("0002 0001 00000009 00000009 00000003 616263", 5);
	expect_sent("0002 0004 00000009 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	/* Other messages are held whole: a CLOSE with a reason ends the stream in error. */
	input_in_pieces("0002 0004 00000001 00000001 00000003 627965", 3);
	expect_sent("0002 0003 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert(u.closed);
	cr_assert(u.error);
	expect_nothing_sent();
	user_fini(&u);
}

Test(mux, data_for_unknown_channel)
{
	struct user u;
	open_first_v2(&u);
	/* §4.7.1 row 10, the other way round. */
	input("0002 0001 00000007 00000007 00000001 41");
	expect_sent("0002 0004 00000007 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	/* ACK, PAUSE and RESUME for unknown channels get the same answer. */
	input("0002 0003 00000009 00000004 00000000");
	expect_sent("0002 0004 00000004 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	input("0002 0005 00000009 00000005 00000000");
	expect_sent("0002 0004 00000005 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	input("0002 0006 00000009 00000006 00000000");
	expect_sent("0002 0004 00000006 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	/* A CLOSE for an unknown channel is still acknowledged. */
	input("0002 0004 00000009 00000003 00000000");
	expect_sent("0002 0003 00000003 00000009 00000000");
	expect_nothing_sent();
	cr_assert_eq(fk.fail_code, 0);
	user_fini(&u);
}

Test(mux, client_open_rejected)
{
	struct user u;
	open_first_v2(&u);
	input("0002 0002 00000000 00000005 00000000");
	expect_sent("0002 0004 00000005 00000000 0000001d "
	            "4552525f57534d5f4f50454e5f4348414e4e454c5f52454a4543544544");
	cr_assert_eq(mux_channel_count(fk.m), 1);
	user_fini(&u);
}

Test(mux, short_messages_ignored)
{
	struct user u;
	open_first_v2(&u);
	uint8_t msg[16];
	memset(msg, 0, sizeof(msg));
	msg[1] = 2; /* version 2 */
	msg[3] = 1; /* DATA */
	msg[7] = 1;
	for (size_t n = 0; n < 16; n++)
		mux_input(fk.m, msg, n);
	/* Also with a wrong version: too short to be judged. */
	msg[1] = 9;
	mux_input(fk.m, msg, 15);
	mux_run(fk.m);
	expect_nothing_sent();
	cr_assert_eq(fk.fail_code, 0);
	cr_assert_eq(evbuffer_get_length(u.data), 0);
	user_fini(&u);
}

Test(mux, wrong_version_terminates)
{
	struct user u;
	open_first_v2(&u);
	input("0003 0001 00000001 00000001 00000000");
	cr_assert_eq(fk.fail_code, MUX_WS_PROTOCOL_ERROR);
	/* The open channel was closed first and its user told. */
	expect_sent("0002 0004 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert(u.closed);
	cr_assert(u.error);
	/* Nothing is accepted any more. */
	struct user v;
	cr_assert_null(open_for(&v));
	cr_assert_eq(v.status, EXPOSR_ERROR);
	input("0002 0001 00000001 00000001 00000001 41");
	expect_nothing_sent();
	user_fini(&v);
	user_fini(&u);
	cr_assert(mux_idle(fk.m));
}

Test(mux, unknown_version_before_first_answer)
{
	struct user u;
	cr_assert_not_null(open_for(&u));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0007 0003 00000001 00000001 00000000");
	cr_assert_eq(fk.fail_code, MUX_WS_PROTOCOL_ERROR);
	mux_run(fk.m);
	cr_assert(u.called);
	cr_assert_eq(u.status, EXPOSR_ERROR);
	user_fini(&u);
}

Test(mux, unknown_type_ignored)
{
	struct user u;
	open_first_v2(&u);
	input("0002 0009 00000001 00000001 00000000");
	input("0002 0000 00000001 00000001 00000000");
	mux_run(fk.m);
	expect_nothing_sent();
	cr_assert_eq(fk.fail_code, 0);
	cr_assert_not(u.closed);
	user_fini(&u);
}

Test(mux, peer_close_after_data)
{
	struct user u;
	open_first_v2(&u);
	input("0002 0001 00000001 00000001 00000003 616263");
	input("0002 0004 00000001 00000001 00000000");
	expect_sent("0002 0003 00000001 00000001 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 0);
	mux_run(fk.m);
	cr_assert(user_got(&u, "abc"));
	cr_assert(u.closed);
	cr_assert_not(u.error);
	/* Writing after the end fails; close() releases. */
	struct evbuffer *b = evbuffer_new();
	evbuffer_add(b, "x", 1);
	cr_assert_eq(u.stream->vt->write(u.stream, b), EXPOSR_ERROR);
	evbuffer_free(b);
	user_fini(&u);
	expect_nothing_sent();
	cr_assert(mux_idle(fk.m));
}

Test(mux, peer_close_with_error)
{
	struct user u;
	open_first_v2(&u);
	u.close_in_callback = true;
	input("0002 0004 00000001 00000001 00000003 455252");
	expect_sent("0002 0003 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert(u.closed);
	cr_assert(u.error);
	cr_assert(mux_idle(fk.m));
	user_fini(&u);
}

Test(mux, data_delivered_while_paused_waits)
{
	struct user u;
	open_first_v2(&u);
	u.stream->vt->pause_read(u.stream);
	expect_sent("0002 0005 00000001 00000001 00000000");
	input("0002 0001 00000001 00000001 00000002 6869");
	input("0002 0004 00000001 00000001 00000000");
	expect_sent("0002 0003 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert_eq(evbuffer_get_length(u.data), 0);
	cr_assert_not(u.closed);
	u.stream->vt->resume_read(u.stream);
	/* The channel is closed at the client: no RESUME is sent for it. */
	expect_nothing_sent();
	mux_run(fk.m);
	cr_assert(user_got(&u, "hi"));
	cr_assert(u.closed);
	user_fini(&u);
}

Test(mux, pause_and_resume_read)
{
	struct user u;
	open_first_v2(&u);
	u.stream->vt->pause_read(u.stream);
	u.stream->vt->pause_read(u.stream);
	expect_sent("0002 0005 00000001 00000001 00000000");
	expect_nothing_sent();
	u.stream->vt->resume_read(u.stream);
	expect_sent("0002 0006 00000001 00000001 00000000");
	user_fini(&u);
}

Test(mux, sequential_numbers)
{
	struct user u[4];
	open_first_v2(&u[0]);
	for (int i = 1; i < 4; i++)
		cr_assert_not_null(open_for(&u[i]));
	expect_sent("0002 0002 00000000 00000002 00000000");
	expect_sent("0002 0002 00000000 00000003 00000000");
	expect_sent("0002 0002 00000000 00000004 00000000");
	for (int i = 0; i < 4; i++)
		user_fini(&u[i]);
}

Test(mux, numbering_wraps_and_skips_used)
{
	struct user a, b, c;
	open_first_v2(&a); /* channel 1 stays open */
	mux_set_next_channel(fk.m, 0xFFFFFFFFu);
	cr_assert_not_null(open_for(&b));
	expect_sent("0002 0002 00000000 ffffffff 00000000");
	/* Wraps to 1, which is in use: 2. */
	cr_assert_not_null(open_for(&c));
	expect_sent("0002 0002 00000000 00000002 00000000");
	input("0002 0003 ffffffff ffffffff 00000000");
	input("0002 0003 00000002 00000002 00000000");
	mux_run(fk.m);
	cr_assert_eq(b.status, EXPOSR_OK);
	cr_assert_eq(c.status, EXPOSR_OK);
	user_write(&b, "x");
	expect_sent("0002 0001 ffffffff ffffffff 00000001 78");
	user_fini(&a);
	user_fini(&b);
	user_fini(&c);
}

Test(mux, only_one_open_while_version_unknown)
{
	struct user a, b;
	cr_assert_not_null(open_for(&a));
	cr_assert_not_null(open_for(&b));
	expect_sent("0002 0002 00000000 00000001 00000000");
	expect_nothing_sent();
	input("0002 0003 00000001 00000001 00000000");
	expect_sent("0002 0002 00000000 00000002 00000000");
	user_fini(&a);
	user_fini(&b);
}

Test(mux, divergence_after_rejection)
{
	struct user a, b, c, d;
	open_first_v2(&a);
	cr_assert_not_null(open_for(&b));
	cr_assert_not_null(open_for(&c));
	expect_sent("0002 0002 00000000 00000002 00000000");
	expect_sent("0002 0002 00000000 00000003 00000000");
	/* The client rejects 2 without allocating: 3 would come back as 2. */
	input("0002 0004 00000002 00000000 00000013 4552525f57534d5f4e4f5f4348414e4e454c53");
	cr_assert(mux_diverged(fk.m));
	mux_run(fk.m);
	cr_assert_eq(b.status, EXPOSR_AGAIN);
	cr_assert_eq(c.status, EXPOSR_ERROR);
	cr_assert_null(open_for(&d));
	cr_assert_eq(d.status, EXPOSR_ERROR);
	/* The mismatched ACK is closed, no DATA ever goes to it. */
	input("0002 0003 00000003 00000002 00000000");
	expect_sent("0002 0004 00000002 00000003 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4d49534d41544348");
	/* Channel 1 still works... */
	user_write(&a, "ok");
	expect_sent("0002 0001 00000001 00000001 00000002 6f6b");
	cr_assert_eq(fk.fail_code, 0);
	/* ...and once it is done the websocket is closed with 1011. */
	a.stream->vt->close(a.stream);
	a.stream = NULL;
	expect_sent("0002 0004 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert_eq(fk.fail_code, MUX_WS_INTERNAL_ERROR);
	user_fini(&a);
	user_fini(&b);
	user_fini(&c);
	user_fini(&d);
}

Test(mux, divergence_on_mismatched_ack)
{
	struct user a;
	cr_assert_not_null(open_for(&a));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0002 0003 00000001 00000005 00000000");
	expect_sent("0002 0004 00000005 00000001 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4d49534d41544348");
	mux_run(fk.m);
	cr_assert_eq(a.status, EXPOSR_ERROR);
	cr_assert(mux_diverged(fk.m));
	cr_assert_eq(fk.fail_code, MUX_WS_INTERNAL_ERROR);
	user_fini(&a);
}

Test(mux, divergence_grace_period)
{
	struct user a, b;
	open_first_v2(&a);
	cr_assert_not_null(open_for(&b));
	input("0002 0003 00000002 00000007 00000000");
	mux_run(fk.m);
	cr_assert_eq(fk.fail_code, 0); /* channel 1 is still open */
	cr_assert_eq(mux_next_deadline(fk.m), fk.now + MUX_CLOSE_ACK_TIMEOUT_MS);
	fk.now += MUX_DIVERGED_GRACE_MS;
	mux_run(fk.m);
	cr_assert_eq(fk.fail_code, MUX_WS_INTERNAL_ERROR);
	mux_run(fk.m);
	cr_assert(a.closed);
	cr_assert(a.error);
	user_fini(&a);
	user_fini(&b);
}

Test(mux, open_timeout)
{
	struct user a, b;
	cr_assert_not_null(open_for(&a));
	cr_assert_not_null(open_for(&b));
	expect_sent("0002 0002 00000000 00000001 00000000");
	cr_assert_eq(mux_next_deadline(fk.m), fk.now + MUX_OPEN_TIMEOUT_MS);
	fk.now += MUX_OPEN_TIMEOUT_MS - 1;
	mux_run(fk.m);
	cr_assert_not(a.called);
	fk.now += 1;
	mux_run(fk.m);
	cr_assert(a.called);
	cr_assert_eq(a.status, EXPOSR_ERROR);
	/* b was queued on the same clock: it timed out too, without an OPEN. */
	cr_assert(b.called);
	cr_assert_eq(b.status, EXPOSR_ERROR);
	expect_nothing_sent();
	cr_assert_eq(mux_channel_count(fk.m), 0);
	/* A late ACK is answered as for an unknown channel. */
	input("0002 0003 00000001 00000001 00000000");
	expect_sent("0002 0004 00000001 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	user_fini(&a);
	user_fini(&b);
}

Test(mux, queued_open_becomes_next_probe)
{
	struct user a, b;
	cr_assert_not_null(open_for(&a));
	expect_sent("0002 0002 00000000 00000001 00000000");
	fk.now += 1000;
	cr_assert_not_null(open_for(&b));
	expect_nothing_sent();
	fk.now += MUX_OPEN_TIMEOUT_MS - 1000;
	mux_run(fk.m);
	cr_assert_eq(a.status, EXPOSR_ERROR);
	/* 1 is spent (the client may have allocated it): the next probe is 2. */
	expect_sent("0002 0002 00000000 00000002 00000000");
	input("0002 0003 00000002 00000002 00000000");
	mux_run(fk.m);
	cr_assert_eq(b.status, EXPOSR_OK);
	user_fini(&a);
	user_fini(&b);
}

Test(mux, close_ack_timeout)
{
	struct user a;
	open_first_v2(&a);
	a.stream->vt->close(a.stream);
	a.stream = NULL;
	expect_sent("0002 0004 00000001 00000001 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 1);
	fk.now += MUX_CLOSE_ACK_TIMEOUT_MS;
	mux_run(fk.m);
	cr_assert_eq(mux_channel_count(fk.m), 0);
	/* Data after the close is answered as for an unknown channel. */
	input("0002 0001 00000001 00000001 00000001 41");
	expect_sent("0002 0004 00000001 00000000 00000018 "
	            "4552525f57534d5f4348414e4e454c5f4e4f545f4f50454e");
	user_fini(&a);
}

Test(mux, data_while_closing_discarded)
{
	struct user a;
	open_first_v2(&a);
	a.stream->vt->close(a.stream);
	a.stream = NULL;
	expect_sent("0002 0004 00000001 00000001 00000000");
	input("0002 0001 00000001 00000001 00000001 41");
	expect_nothing_sent();
	user_fini(&a);
}

Test(mux, cancelled_open_closed_on_ack)
{
	struct user a;
	void *token = open_for(&a);
	cr_assert_not_null(token);
	expect_sent("0002 0002 00000000 00000001 00000000");
	mux_cancel_open(fk.m, token);
	input("0002 0003 00000001 00000001 00000000");
	expect_sent("0002 0004 00000001 00000001 00000000");
	mux_run(fk.m);
	cr_assert_not(a.called);
	input("0002 0003 00000001 00000001 00000000");
	cr_assert(mux_idle(fk.m));
	user_fini(&a);
}

Test(mux, cancelled_queued_open)
{
	struct user a, b;
	cr_assert_not_null(open_for(&a));
	void *token = open_for(&b);
	mux_cancel_open(fk.m, token);
	input("0002 0003 00000001 00000001 00000000");
	mux_run(fk.m);
	expect_sent("0002 0002 00000000 00000001 00000000");
	expect_nothing_sent();
	cr_assert_not(b.called);
	user_fini(&a);
	user_fini(&b);
}

Test(mux, backpressure_and_drained)
{
	struct user a;
	open_first_v2(&a);
	a.stream->vt->set_low_water(a.stream, 0);
	fk.writable = false;
	user_write(&a, "abc");
	expect_nothing_sent();
	cr_assert_eq(a.stream->vt->output_length(a.stream), 3);
	fk.writable = true;
	mux_pump(fk.m);
	expect_sent("0002 0001 00000001 00000001 00000003 616263");
	cr_assert_eq(a.stream->vt->output_length(a.stream), 0);
	mux_run(fk.m);
	cr_assert_eq(a.drained, 1);
	user_fini(&a);
}

Test(mux, large_writes_are_chunked)
{
	struct user a;
	open_first_v2(&a);
	size_t size = MUX_DATA_CHUNK * 2 + 10;
	char *big = malloc(size + 1);
	memset(big, 'z', size);
	big[size] = '\0';
	user_write(&a, big);
	free(big);
	cr_assert_eq(fk.count - fk.cursor, 3);
	cr_assert_eq(fk.sent_len[fk.cursor], 16 + MUX_DATA_CHUNK);
	cr_assert_eq(fk.sent_len[fk.cursor + 2], 16 + 10);
	fk.cursor = fk.count;
	user_fini(&a);
}

Test(mux, close_flushes_first)
{
	struct user a;
	open_first_v2(&a);
	fk.writable = false;
	user_write(&a, "bye");
	a.stream->vt->close(a.stream);
	a.stream = NULL;
	expect_nothing_sent();
	fk.writable = true;
	mux_pump(fk.m);
	expect_sent("0002 0001 00000001 00000001 00000003 627965");
	expect_sent("0002 0004 00000001 00000001 00000000");
	user_fini(&a);
}

Test(mux, close_all)
{
	struct user a, b;
	open_first_v2(&a);
	cr_assert_not_null(open_for(&b));
	expect_sent("0002 0002 00000000 00000002 00000000");
	mux_close_all(fk.m);
	expect_sent("0002 0004 00000001 00000001 00000000");
	expect_nothing_sent();
	mux_run(fk.m);
	cr_assert(a.closed);
	cr_assert(a.error);
	cr_assert_eq(b.status, EXPOSR_ERROR);
	struct user c;
	cr_assert_null(open_for(&c));
	cr_assert_eq(c.status, EXPOSR_ERROR);
	cr_assert_not(mux_idle(fk.m)); /* a's user still holds the stream */
	cr_assert_eq(fk.channels, 1);
	user_fini(&a);
	cr_assert(mux_idle(fk.m));
	cr_assert_eq(fk.channels, 0);
	user_fini(&b);
	user_fini(&c);
}

Test(mux, channel_limit)
{
	struct user first;
	open_first_v2(&first);
	fk.keep = false;
	/* Every open is answered, as the client does; the last one hits the limit. */
	static struct user users[MUX_MAX_CHANNELS_V2];
	for (uint32_t i = 1; i < MUX_MAX_CHANNELS_V2; i++) {
		users[i].data = NULL;
		cr_assert_not_null(mux_open(fk.m, on_open, &users[i]));
	}
	cr_assert_eq(mux_channel_count(fk.m), MUX_MAX_CHANNELS_V2);
	struct user over;
	cr_assert_null(open_for(&over));
	cr_assert_eq(over.status, EXPOSR_AGAIN);
	user_fini(&over);
	user_fini(&first);
}

/* v1: the old client answers the probe with a 12-byte CONACK for channel 0. */
Test(mux, v1_session)
{
	struct user a, b, c;
	cr_assert_not_null(open_for(&a));
	cr_assert_not_null(open_for(&b));
	expect_sent("0002 0002 00000000 00000001 00000000");
	expect_nothing_sent();
	input("0001 0003 00000000 00000000");
	cr_assert_eq(mux_version(fk.m), MUX_V1);
	/* The queued open goes out as CON 1. */
	expect_sent("0001 0002 00000001 00000000");
	mux_run(fk.m);
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_not(b.called);
	user_write(&a, "hello");
	expect_sent("0001 0001 00000000 00000005 68656c6c6f");
	input("0001 0003 00000001 00000000");
	mux_run(fk.m);
	cr_assert_eq(b.status, EXPOSR_OK);
	/* Data both ways on channel 1. */
	input("0001 0001 00000001 00000002 6869");
	mux_run(fk.m);
	cr_assert(user_got(&b, "hi"));
	/* The server closes 0: FIN, and 0 stays reserved until the client's FIN. */
	a.stream->vt->close(a.stream);
	a.stream = NULL;
	expect_sent("0001 0004 00000000 00000000");
	cr_assert_not_null(open_for(&c));
	expect_sent("0001 0002 00000002 00000000");
	input("0001 0004 00000000 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 2);
	/* The client's FIN on an open channel: data first, then the end; FIN echoed. */
	input("0001 0001 00000001 00000001 21");
	input("0001 0004 00000001 00000000");
	expect_sent("0001 0004 00000001 00000000");
	mux_run(fk.m);
	cr_assert(user_got(&b, "hi!"));
	cr_assert(b.closed);
	cr_assert_not(b.error);
	/* DATA for a channel it does not have: FIN. */
	input("0001 0001 00000009 00000001 41");
	expect_sent("0001 0004 00000009 00000000");
	/* PAUSE/RESUME on channel 2. */
	input("0001 0003 00000002 00000000");
	mux_run(fk.m);
	cr_assert_eq(c.status, EXPOSR_OK);
	input("0001 0005 00000002 00000000");
	user_write(&c, "z");
	expect_nothing_sent();
	input("0001 0006 00000002 00000000");
	expect_sent("0001 0001 00000002 00000001 7a");
	c.stream->vt->pause_read(c.stream);
	expect_sent("0001 0005 00000002 00000000");
	c.stream->vt->resume_read(c.stream);
	expect_sent("0001 0006 00000002 00000000");
	user_fini(&a);
	user_fini(&b);
	user_fini(&c);
}

/* The pre-0.5 clients' endpoint: v1 from the first byte, no probe, channels from 0. */
Test(mux, v1_from_the_start)
{
	struct user a, b;
	mux_start_v1(fk.m);
	cr_assert_eq(mux_version(fk.m), MUX_V1);
	cr_assert_not_null(open_for(&a));
	cr_assert_not_null(open_for(&b));
	expect_sent("0001 0002 00000000 00000000");
	expect_sent("0001 0002 00000001 00000000");
	input("0001 0003 00000000 00000000");
	input("0001 0003 00000001 00000000");
	mux_run(fk.m);
	cr_assert_eq(a.status, EXPOSR_OK);
	cr_assert_eq(b.status, EXPOSR_OK);
	/* The client's target closes: it sends FIN twice; the second is ignored. */
	input("0001 0004 00000000 00000000");
	expect_sent("0001 0004 00000000 00000000");
	input("0001 0004 00000000 00000000");
	expect_nothing_sent();
	mux_run(fk.m);
	cr_assert(a.closed);
	cr_assert_not(a.error);
	cr_assert_eq(mux_channel_count(fk.m), 1);
	user_fini(&a);
	user_fini(&b);
}

Test(mux, v1_numbers_not_reused_before_fin)
{
	struct user a, b, c;
	cr_assert_not_null(open_for(&a));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0001 0003 00000000 00000000");
	mux_run(fk.m);
	cr_assert_not_null(open_for(&b));
	expect_sent("0001 0002 00000001 00000000");
	input("0001 0003 00000001 00000000");
	mux_run(fk.m);
	b.stream->vt->close(b.stream);
	b.stream = NULL;
	expect_sent("0001 0004 00000001 00000000");
	/* 65536 numbers wrap: 0 and 1 are in use, so after 65535 comes 2. */
	mux_set_next_channel(fk.m, 65535);
	cr_assert_not_null(open_for(&c));
	expect_sent("0001 0002 0000ffff 00000000");
	struct user d;
	cr_assert_not_null(open_for(&d));
	expect_sent("0001 0002 00000002 00000000");
	user_fini(&a);
	user_fini(&b);
	user_fini(&c);
	user_fini(&d);
}

Test(mux, v1_probe_refused)
{
	struct user a;
	cr_assert_not_null(open_for(&a));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0001 0004 00000000 00000000");
	mux_run(fk.m);
	cr_assert_eq(a.status, EXPOSR_AGAIN);
	cr_assert_eq(mux_version(fk.m), MUX_V1);
	cr_assert_eq(mux_channel_count(fk.m), 0);
	user_fini(&a);
}

Test(mux, v1_open_timeout_keeps_number)
{
	struct user a, b;
	cr_assert_not_null(open_for(&a));
	expect_sent("0002 0002 00000000 00000001 00000000");
	input("0001 0003 00000000 00000000");
	mux_run(fk.m);
	cr_assert_not_null(open_for(&b));
	expect_sent("0001 0002 00000001 00000000");
	fk.now += MUX_OPEN_TIMEOUT_MS;
	mux_run(fk.m);
	cr_assert_eq(b.status, EXPOSR_ERROR);
	expect_sent("0001 0004 00000001 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 2);
	user_fini(&a);
	user_fini(&b);
}

Test(mux, v1_answer_without_probe_reserves_channel_zero)
{
	struct user a, b;
	cr_assert_not_null(open_for(&a));
	expect_sent("0002 0002 00000000 00000001 00000000");
	fk.now += MUX_OPEN_TIMEOUT_MS;
	mux_run(fk.m);
	cr_assert_eq(a.status, EXPOSR_ERROR);
	/* The old client answers late: channel 0 is open at its end, for nobody. */
	input("0001 0003 00000000 00000000");
	cr_assert_eq(mux_version(fk.m), MUX_V1);
	expect_sent("0001 0004 00000000 00000000");
	cr_assert_not_null(open_for(&b));
	expect_sent("0001 0002 00000001 00000000");
	input("0001 0004 00000000 00000000");
	cr_assert_eq(mux_channel_count(fk.m), 1);
	user_fini(&a);
	user_fini(&b);
}

Test(mux, client_ignoring_pause_is_cut_off)
{
	struct user a;
	open_first_v2(&a);
	a.stream->vt->pause_read(a.stream);
	expect_sent("0002 0005 00000001 00000001 00000000");
	size_t chunk = 1024 * 1024;
	uint8_t *msg = calloc(1, 16 + chunk);
	mux_encode_v2(msg, MUX_DATA, 1, 1, (uint32_t)chunk);
	for (size_t sent = 0; sent <= MUX_CHANNEL_INPUT_MAX; sent += chunk)
		mux_input(fk.m, msg, 16 + chunk);
	free(msg);
	cr_assert_eq(fk.sent[fk.cursor][3], MUX_CLOSE);
	fk.cursor = fk.count;
	mux_run(fk.m);
	cr_assert(a.closed);
	cr_assert(a.error);
	user_fini(&a);
}

Test(mux, callbacks_run_from_the_loop_only)
{
	struct user a;
	open_first_v2(&a);
	input("0002 0001 00000001 00000001 00000001 41");
	cr_assert_eq(evbuffer_get_length(a.data), 0);
	cr_assert_gt(fk.wakes, 0);
	mux_run(fk.m);
	cr_assert(user_got(&a, "A"));
	user_fini(&a);
}

/* lib/chan: the user side of a transport channel, driven by a fake transport. */
#include <criterion/criterion.h>
#include <string.h>

#include <event2/buffer.h>

#include "chan_stream.h"

/* The fake transport: counts what the user side asked of it. */
static struct {
	int wakes, output_added, paused, resumed, closed;
	bool writable;
} transport;

static void wake(struct chan_stream *cs)
{
	(void)cs;
	transport.wakes++;
}

static bool writable(const struct chan_stream *cs)
{
	(void)cs;
	return transport.writable;
}

static void output_added(struct chan_stream *cs)
{
	(void)cs;
	transport.output_added++;
}

static void read_paused(struct chan_stream *cs, bool paused)
{
	(void)cs;
	if (paused)
		transport.paused++;
	else
		transport.resumed++;
}

static void closed(struct chan_stream *cs)
{
	(void)cs;
	transport.closed++;
}

static const struct chan_stream_ops ops = {wake, writable, output_added, read_paused, closed};

/* What the user saw, in order: 'o'pen, 'd'ata, d'r'ained, 'c'losed, 'e'rror end. */
static char seen[32];
static int open_status;

static void note(char c)
{
	size_t n = strlen(seen);
	cr_assert_lt(n, sizeof(seen) - 1);
	seen[n] = c;
}

static void on_open(void *arg, int status, struct exposr_stream *stream)
{
	(void)arg;
	open_status = status;
	note(stream != NULL ? 'o' : 'x');
}

static void on_data(void *arg, struct exposr_stream *s, struct evbuffer *data)
{
	(void)arg;
	(void)s;
	evbuffer_drain(data, evbuffer_get_length(data));
	note('d');
}

static void on_drained(void *arg, struct exposr_stream *s)
{
	(void)arg;
	(void)s;
	note('r');
}

static void on_closed(void *arg, struct exposr_stream *s, bool error)
{
	(void)arg;
	(void)s;
	note(error ? 'e' : 'c');
}

static const struct exposr_stream_callbacks user_cbs = {on_data, on_drained, on_closed};

static struct chan_stream cs;

static void setup(void)
{
	memset(&transport, 0, sizeof(transport));
	memset(seen, 0, sizeof(seen));
	transport.writable = true;
	cr_assert_eq(chan_stream_init(&cs, &ops), 0);
	cs.user = CHAN_USER_WAITING;
	cs.open_cb = on_open;
	cs.open_status = EXPOSR_OK;
	cs.open_done = true;
	chan_stream_deliver_open(&cs, NULL);
	cs.stream.vt->set_callbacks(&cs.stream, &user_cbs, NULL);
}

static void teardown(void)
{
	chan_stream_release(&cs);
}

Test(chan_stream, the_end_comes_after_the_data, .init = setup, .fini = teardown)
{
	cr_assert_eq(cs.user, CHAN_USER_OWNED);
	cr_assert_eq(transport.wakes, 1, "set_callbacks wakes the transport");
	cr_assert_eq(evbuffer_add(cs.in, "abc", 3), 0);
	cs.stream.vt->pause_read(&cs.stream);
	cs.stream.vt->pause_read(&cs.stream);
	cr_assert_eq(transport.paused, 1);
	cr_assert(chan_stream_end(&cs, false));
	cr_assert_not(chan_stream_end(&cs, true), "ended once");
	chan_stream_deliver(&cs);
	cr_assert_str_eq(seen, "o", "nothing while paused");
	cs.stream.vt->resume_read(&cs.stream);
	cr_assert_eq(transport.resumed, 1);
	chan_stream_deliver(&cs);
	chan_stream_deliver(&cs);
	cr_assert_str_eq(seen, "odc");
}

Test(chan_stream, drained_at_the_low_water_mark_and_close_after_flush, .init = setup,
     .fini = teardown)
{
	struct evbuffer *b = evbuffer_new();
	cs.stream.vt->set_low_water(&cs.stream, 2);
	cr_assert_eq(evbuffer_add(b, "hello", 5), 0);
	cr_assert_eq(cs.stream.vt->write(&cs.stream, b), EXPOSR_OK);
	cr_assert_eq(transport.output_added, 1);
	cr_assert_eq(cs.stream.vt->output_length(&cs.stream), 5);
	evbuffer_drain(cs.out, 2);
	cr_assert_not(chan_stream_output_sent(&cs));
	cr_assert_not(cs.drained_due, "3 bytes left, above the mark");
	evbuffer_drain(cs.out, 1);
	cr_assert_not(chan_stream_output_sent(&cs));
	cr_assert(cs.drained_due);
	chan_stream_deliver(&cs);
	cr_assert_str_eq(seen, "or");
	/* Closed with output left: the transport ends the channel once it is sent. */
	cs.close_after_flush = true;
	evbuffer_drain(cs.out, 2);
	cr_assert(chan_stream_output_sent(&cs));
	cr_assert_not(cs.close_after_flush);
	evbuffer_free(b);
}

Test(chan_stream, writes_refused_when_ended_or_not_writable, .init = setup, .fini = teardown)
{
	struct evbuffer *b = evbuffer_new();
	transport.writable = false;
	cr_assert_eq(evbuffer_add(b, "x", 1), 0);
	cr_assert_eq(cs.stream.vt->write(&cs.stream, b), EXPOSR_ERROR);
	cr_assert_eq(evbuffer_get_length(b), 0, "the refused bytes are drained");
	transport.writable = true;
	cr_assert(chan_stream_end(&cs, true));
	cr_assert_eq(evbuffer_add(b, "x", 1), 0);
	cr_assert_eq(cs.stream.vt->write(&cs.stream, b), EXPOSR_ERROR);
	chan_stream_deliver(&cs);
	cr_assert_str_eq(seen, "oe");
	cs.stream.vt->close(&cs.stream);
	cr_assert_eq(transport.closed, 1);
	cr_assert_eq(cs.user, CHAN_USER_NONE);
	evbuffer_free(b);
}

static struct exposr_stream *failing_wrap(struct chan_stream *c)
{
	(void)c;
	return NULL;
}

Test(chan_stream, a_failed_wrap_answers_the_open_with_an_error, .init = setup, .fini = teardown)
{
	struct chan_stream other;
	cr_assert_eq(chan_stream_init(&other, &ops), 0);
	other.user = CHAN_USER_WAITING;
	other.open_cb = on_open;
	other.open_status = EXPOSR_OK;
	chan_stream_deliver_open(&other, failing_wrap);
	cr_assert_eq(other.user, CHAN_USER_WAITING, "not due before open_done");
	other.open_done = true;
	chan_stream_deliver_open(&other, failing_wrap);
	cr_assert_eq(open_status, EXPOSR_ERROR);
	cr_assert_str_eq(seen, "ox");
	chan_stream_release(&other);
}

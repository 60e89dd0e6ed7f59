/* Socket streams and the splice over socketpairs: data both ways, back-pressure, close
 * propagation, and that nothing is left behind. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "streams.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

/* libevent reads at most this much from a socket at a time. */
#define ONE_READ 16384

static struct event_base *base;
static int fds_before;

static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	cr_assert_not_null(dir);
	int n = 0;
	while (readdir(dir) != NULL)
		n++;
	closedir(dir);
	return n;
}

static void setup(void)
{
	fds_before = count_fds();
	base = event_base_new();
	cr_assert_not_null(base);
}

/* Everything a test made must be gone: sockets closed, memory freed. */
static void teardown(void)
{
	event_base_free(base);
	base = NULL;
	cr_expect_eq(count_fds(), fds_before, "file descriptors leaked");
#ifdef HAVE_LSAN
	cr_expect_eq(__lsan_do_recoverable_leak_check(), 0, "memory leaked");
#endif
}

TestSuite(splice, .init = setup, .fini = teardown, .timeout = 60);

/* Runs the loop for about `ms` milliseconds. */
static void run_for(int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	cr_assert_eq(event_base_loopexit(base, &tv), 0);
	cr_assert_geq(event_base_dispatch(base), 0);
}

/* A stream over one end of a socketpair; the test drives the other end (`outer`). */
static struct exposr_stream *socket_stream(int *outer)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	struct bufferevent *bev = bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	cr_assert_not_null(bev);
	struct exposr_stream *s = stream_api.from_bufferevent(bev);
	cr_assert_not_null(s);
	*outer = sv[1];
	return s;
}

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131 + i / 4093 + seed) & 0xff);
}

/* Writes what the socket takes of the pattern from *offset up to `total`. */
static size_t pump(int fd, size_t *offset, size_t total, unsigned seed)
{
	unsigned char chunk[65536];
	size_t written = 0;
	while (*offset < total) {
		size_t n = total - *offset < sizeof(chunk) ? total - *offset : sizeof(chunk);
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern(*offset + i, seed);
		ssize_t w = write(fd, chunk, n);
		if (w < 0) {
			cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "write: %s",
			          strerror(errno));
			break;
		}
		*offset += (size_t)w;
		written += (size_t)w;
	}
	return written;
}

/* Reads what is there, checking it against the pattern; true once the peer ended. */
static bool drain(int fd, size_t *offset, unsigned seed)
{
	unsigned char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r == 0)
			return true;
		if (r < 0) {
			cr_assert(errno == EAGAIN || errno == EWOULDBLOCK, "read: %s",
			          strerror(errno));
			return false;
		}
		for (ssize_t i = 0; i < r; i++)
			cr_assert_eq(chunk[i], pattern(*offset + (size_t)i, seed),
			             "byte %zu differs", *offset + (size_t)i);
		*offset += (size_t)r;
	}
}

static void count_done(void *arg)
{
	(*(int *)arg)++;
}

/* --- the socket stream alone ------------------------------------------------------ */

struct recorder {
	struct evbuffer *got;
	int closed;
	bool error;
	int drained;
	bool close_in_data; /* the owner closes the stream from inside on_data */
};

static void rec_data(void *arg, struct exposr_stream *stream, struct evbuffer *data)
{
	struct recorder *r = arg;
	cr_assert_eq(evbuffer_add_buffer(r->got, data), 0);
	if (r->close_in_data)
		stream->vt->close(stream);
}

static void rec_drained(void *arg, struct exposr_stream *stream)
{
	(void)stream;
	((struct recorder *)arg)->drained++;
}

static void rec_closed(void *arg, struct exposr_stream *stream, bool error)
{
	(void)stream;
	struct recorder *r = arg;
	r->closed++;
	r->error = error;
}

static const struct exposr_stream_callbacks rec_callbacks = {
        .on_data = rec_data, .on_drained = rec_drained, .on_closed = rec_closed};

Test(splice, socket_stream_reads_writes_and_reports_the_end)
{
	int outer;
	struct exposr_stream *s = socket_stream(&outer);
	struct recorder r = {.got = evbuffer_new()};
	s->vt->set_callbacks(s, &rec_callbacks, &r);

	cr_assert_eq(write(outer, "hello", 5), 5);
	run_for(20);
	cr_assert_eq(evbuffer_get_length(r.got), 5);

	struct evbuffer *out = evbuffer_new();
	evbuffer_add(out, "world", 5);
	cr_assert_eq(s->vt->write(s, out), EXPOSR_OK);
	cr_assert_eq(evbuffer_get_length(out), 0, "write moves everything");
	run_for(20);
	cr_assert_geq(r.drained, 1);
	char buf[16];
	cr_assert_eq(read(outer, buf, sizeof(buf)), 5);
	cr_assert_eq(memcmp(buf, "world", 5), 0);

	/* The peer ends its side: reported once, without error. */
	cr_assert_eq(shutdown(outer, SHUT_WR), 0);
	run_for(20);
	cr_assert_eq(r.closed, 1);
	cr_assert_not(r.error);
	s->vt->close(s);
	run_for(20);
	cr_assert_eq(read(outer, buf, sizeof(buf)), 0, "closing shuts our side down");
	close(outer);
	run_for(20);
	evbuffer_free(out);
	evbuffer_free(r.got);
}

Test(splice, socket_stream_close_flushes_everything_first)
{
	int outer;
	struct exposr_stream *s = socket_stream(&outer);
	struct recorder r = {.got = evbuffer_new()};
	s->vt->set_callbacks(s, &rec_callbacks, &r);
	/* More than the kernel buffers hold, so that close() must wait for the reader. */
	const size_t total = 4 << 20;
	struct evbuffer *out = evbuffer_new();
	for (size_t i = 0; i < total; i++) {
		unsigned char c = pattern(i, 1);
		evbuffer_add(out, &c, 1);
	}
	cr_assert_eq(s->vt->write(s, out), EXPOSR_OK);
	s->vt->close(s);
	size_t got = 0;
	bool ended = false;
	for (int i = 0; i < 1000 && !ended; i++) {
		run_for(2);
		ended = drain(outer, &got, 1);
	}
	cr_assert(ended);
	cr_assert_eq(got, total);
	close(outer);
	run_for(20);
	cr_assert_eq(r.closed, 0, "no callbacks after close()");
	evbuffer_free(out);
	evbuffer_free(r.got);
}

Test(splice, socket_stream_pause_holds_and_resume_redelivers)
{
	int outer;
	struct exposr_stream *s = socket_stream(&outer);
	struct recorder r = {.got = evbuffer_new()};
	s->vt->set_callbacks(s, &rec_callbacks, &r);
	s->vt->pause_read(s);
	cr_assert_eq(write(outer, "abc", 3), 3);
	cr_assert_eq(shutdown(outer, SHUT_WR), 0);
	run_for(20);
	cr_assert_eq(evbuffer_get_length(r.got), 0, "nothing is delivered while paused");
	cr_assert_eq(r.closed, 0);
	s->vt->resume_read(s);
	cr_assert_eq(evbuffer_get_length(r.got), 0, "delivery comes from the loop");
	run_for(20);
	cr_assert_eq(evbuffer_get_length(r.got), 3);
	cr_assert_eq(r.closed, 1, "the end comes after the data");
	s->vt->close(s);
	close(outer);
	run_for(20);
	evbuffer_free(r.got);
}

Test(splice, socket_stream_may_be_closed_from_its_own_callback)
{
	int outer;
	struct exposr_stream *s = socket_stream(&outer);
	struct recorder r = {.got = evbuffer_new(), .close_in_data = true};
	s->vt->set_callbacks(s, &rec_callbacks, &r);
	cr_assert_eq(write(outer, "x", 1), 1);
	run_for(20);
	cr_assert_eq(evbuffer_get_length(r.got), 1);
	char c;
	cr_assert_eq(read(outer, &c, 1), 0, "closed");
	close(outer);
	run_for(20);
	evbuffer_free(r.got);
}

/* --- the splice ------------------------------------------------------------------- */

struct pair {
	int a_outer, b_outer;
	struct exposr_stream *a, *b;
	int done;
};

static void make_splice(struct pair *p, size_t high, size_t low)
{
	p->a = socket_stream(&p->a_outer);
	p->b = socket_stream(&p->b_outer);
	p->done = 0;
	cr_assert_eq(stream_api.splice(p->a, p->b, high, low, count_done, &p->done), EXPOSR_OK);
}

Test(splice, carries_data_both_ways_at_once)
{
	struct pair p;
	make_splice(&p, 0, 0);
	const size_t total = 8 << 20;
	size_t a_sent = 0, b_sent = 0, a_got = 0, b_got = 0;
	for (int i = 0; i < 5000 && (a_got < total || b_got < total); i++) {
		pump(p.a_outer, &a_sent, total, 1);
		pump(p.b_outer, &b_sent, total, 2);
		run_for(1);
		cr_assert_not(drain(p.b_outer, &b_got, 1));
		cr_assert_not(drain(p.a_outer, &a_got, 2));
	}
	cr_assert_eq(b_got, total, "a -> b");
	cr_assert_eq(a_got, total, "b -> a");
	cr_assert_eq(p.done, 0);

	close(p.a_outer);
	bool ended = false;
	for (int i = 0; i < 200 && !ended; i++) {
		run_for(5);
		ended = drain(p.b_outer, &b_got, 1);
	}
	cr_assert(ended, "a's end reaches b");
	close(p.b_outer);
	run_for(20);
	cr_assert_eq(p.done, 1);
}

/* A reader that does not read: the writing side stops being read, and what the splice
 * holds stays within the high mark plus one read. */
Test(splice, back_pressure_bounds_what_is_buffered)
{
	const size_t high = 64 * 1024, low = 16 * 1024;
	struct pair p;
	make_splice(&p, high, low);
	const size_t limit = 64 << 20;
	size_t sent = 0, most = 0;
	int idle_rounds = 0;
	for (int i = 0; i < 2000 && idle_rounds < 20; i++) {
		size_t n = pump(p.a_outer, &sent, limit, 3);
		idle_rounds = n == 0 ? idle_rounds + 1 : 0;
		run_for(1);
		size_t held = p.b->vt->output_length(p.b);
		if (held > most)
			most = held;
	}
	cr_assert_eq(idle_rounds, 20, "the writer was never stopped (%zu bytes taken)", sent);
	cr_assert_lt(sent, limit);
	cr_assert_gt(most, low, "the output never filled: the test proves nothing");
	cr_assert_leq(most, high + ONE_READ, "held %zu bytes", most);
	cr_log_info("writer stopped after %zu bytes; the splice held at most %zu", sent, most);

	/* The reader catches up: everything arrives in order and reading resumed. */
	size_t got = 0;
	for (int i = 0; i < 5000 && got < sent; i++) {
		run_for(1);
		cr_assert_not(drain(p.b_outer, &got, 3));
		size_t held = p.b->vt->output_length(p.b);
		cr_assert_leq(held, high + ONE_READ);
	}
	cr_assert_eq(got, sent);
	size_t more = sent + (1 << 20);
	for (int i = 0; i < 5000 && got < more; i++) {
		pump(p.a_outer, &sent, more, 3);
		run_for(1);
		cr_assert_not(drain(p.b_outer, &got, 3));
	}
	cr_assert_eq(got, more, "reading resumed below the low mark");
	close(p.a_outer);
	close(p.b_outer);
	run_for(50);
	cr_assert_eq(p.done, 1);
}

Test(splice, a_close_flushes_the_other_side_then_frees_everything)
{
	struct pair p;
	make_splice(&p, 64 * 1024, 16 * 1024);
	/* a sends more than b's reader has taken, then ends: b still gets all of it. */
	const size_t total = 2 << 20;
	size_t sent = 0, got = 0;
	for (int i = 0; i < 100; i++) {
		pump(p.a_outer, &sent, total, 4);
		run_for(1);
	}
	cr_assert_lt(sent, total, "back-pressure stopped the writer");
	bool ended = false;
	for (int i = 0; i < 5000 && !ended; i++) {
		pump(p.a_outer, &sent, total, 4);
		if (sent == total && p.a_outer >= 0) {
			close(p.a_outer);
			p.a_outer = -1;
		}
		run_for(1);
		ended = drain(p.b_outer, &got, 4);
	}
	cr_assert(ended);
	cr_assert_eq(got, total);
	close(p.b_outer);
	run_for(20);
	cr_assert_eq(p.done, 1);
}

Test(splice, b_close_reaches_a)
{
	struct pair p;
	make_splice(&p, 0, 0);
	cr_assert_eq(write(p.b_outer, "bye", 3), 3);
	close(p.b_outer);
	char buf[8];
	ssize_t n = 0;
	for (int i = 0; i < 100 && n < 3; i++) {
		run_for(5);
		ssize_t r = read(p.a_outer, buf + n, sizeof(buf) - (size_t)n);
		if (r > 0)
			n += r;
	}
	cr_assert_eq(n, 3);
	cr_assert_eq(memcmp(buf, "bye", 3), 0);
	ssize_t r = -1;
	for (int i = 0; i < 100 && r != 0; i++) {
		run_for(5);
		r = read(p.a_outer, buf, sizeof(buf));
	}
	cr_assert_eq(r, 0, "a sees the end");
	close(p.a_outer);
	run_for(20);
	cr_assert_eq(p.done, 1);
}

Test(splice, a_peer_that_never_ends_is_dropped_after_the_linger)
{
	struct pair p;
	make_splice(&p, 0, 0);
	cr_assert_eq(write(p.a_outer, "x", 1), 1);
	close(p.a_outer);
	for (int i = 0; i < 60 && p.done == 0; i++)
		run_for(10);
	cr_assert_eq(p.done, 1, "the splice ended");
	char c;
	cr_assert_eq(read(p.b_outer, &c, 1), 1);
	cr_assert_eq(read(p.b_outer, &c, 1), 0, "b's side is shut down");
	/* b's peer keeps its socket open: the lingering socket still takes what it sends
	 * (and throws it away) ... */
	cr_assert_eq(send(p.b_outer, "y", 1, MSG_NOSIGNAL), 1);
	/* ... but only until the linger times out, then it is closed and freed. */
	run_for(2500);
	cr_assert_eq(send(p.b_outer, "z", 1, MSG_NOSIGNAL), -1);
	cr_assert_eq(errno, EPIPE);
	close(p.b_outer);
}

Test(splice, refuses_bad_arguments)
{
	int outer;
	struct exposr_stream *s = socket_stream(&outer);
	cr_assert_eq(stream_api.splice(s, s, 0, 0, NULL, NULL), EXPOSR_ERROR);
	cr_assert_eq(stream_api.splice(s, NULL, 0, 0, NULL, NULL), EXPOSR_ERROR);
	s->vt->close(s);
	close(outer);
	run_for(20);
}

/* At exit a closed stream may still be flushing to a peer that reads nothing: it is freed
 * with its socket, and the peer sees the connection end. */
Test(splice, closed_streams_still_flushing_are_freed_at_exit)
{
	int outer;
	struct exposr_stream *s = socket_stream(&outer);
	struct evbuffer *big = evbuffer_new();
	cr_assert_not_null(big);
	static const char block[65536];
	for (int i = 0; i < 64; i++)
		cr_assert_eq(evbuffer_add(big, block, sizeof(block)), 0);
	cr_assert_eq(s->vt->write(s, big), EXPOSR_OK);
	evbuffer_free(big);
	s->vt->close(s);
	run_for(20);
	char buf[65536];
	ssize_t r;
	while ((r = read(outer, buf, sizeof(buf))) > 0)
		;
	cr_assert(r < 0 && errno == EAGAIN, "still flushing: no end yet");
	stream_sockets_free_closing();
	/* The socket itself closes when the loop runs the bufferevent's finalizer. */
	run_for(20);
	while ((r = read(outer, buf, sizeof(buf))) > 0)
		;
	cr_assert_eq(r, 0, "the peer sees the end");
	close(outer);
}

/* core/event_loop.c: the loop runs what is due and stops as event_base_dispatch does, with
 * busy polling or without, and with busy polling still sleeps when nothing happens. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <time.h>

#include <event2/event.h>

#include "event_loop.h"

/* A timer that re-arms itself `every_us` and stops the loop on its `stop_after`-th run. */
struct chain {
	struct event_base *base;
	struct event *ev;
	long every_us;
	int runs, stop_after;
	bool use_break;
};

static void chain_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct chain *c = arg;
	if (++c->runs == c->stop_after) {
		if (c->use_break)
			cr_assert_eq(event_base_loopbreak(c->base), 0);
		else
			cr_assert_eq(event_base_loopexit(c->base, NULL), 0);
		return;
	}
	struct timeval tv = {.tv_sec = c->every_us / 1000000, .tv_usec = c->every_us % 1000000};
	cr_assert_eq(event_add(c->ev, &tv), 0);
}

static void run_chain(long busy_poll_us, long every_us, int runs, bool use_break)
{
	struct chain c = {.every_us = every_us, .stop_after = runs, .use_break = use_break};
	c.base = event_base_new();
	cr_assert_not_null(c.base);
	c.ev = evtimer_new(c.base, chain_step, &c);
	cr_assert_not_null(c.ev);
	struct timeval now = {0, 0};
	cr_assert_eq(event_add(c.ev, &now), 0);
	cr_assert_eq(event_loop_run(c.base, busy_poll_us), 0);
	cr_assert_eq(c.runs, runs, "busy_poll %ld us, a timer every %ld us: %d runs", busy_poll_us,
	             every_us, c.runs);
	event_free(c.ev);
	event_base_free(c.base);
}

Test(event_loop, without_busy_polling_runs_until_loopexit)
{
	run_chain(0, 1000, 20, false);
}

/* The timer comes back after the polling ended: the loop sleeps between runs. */
Test(event_loop, polling_shorter_than_the_gaps_runs_until_loopexit, .timeout = 10)
{
	run_chain(200, 3000, 20, false);
}

/* The timer comes back while the loop polls: its runs and the exit happen there. */
Test(event_loop, polling_longer_than_the_gaps_runs_until_loopexit, .timeout = 10)
{
	run_chain(5000, 500, 20, false);
}

Test(event_loop, polling_stops_at_loopbreak, .timeout = 10)
{
	run_chain(5000, 500, 20, true);
}

Test(event_loop, nothing_to_wait_for_returns_at_once, .timeout = 10)
{
	struct event_base *base = event_base_new();
	cr_assert_not_null(base);
	cr_assert_eq(event_loop_run(base, 1000), 0);
	event_base_free(base);
}

static double cpu_seconds(void)
{
	struct timespec ts;
	cr_assert_eq(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), 0);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Three wake-ups 300 ms apart, each followed by 1 ms of polling: the process uses a few
 * milliseconds of CPU, where a loop that never slept would use most of the 600 ms, even
 * on a machine busy with other work (two CPU hogs on two cores leave it 400 ms). */
Test(event_loop, polling_ends_and_the_loop_sleeps, .timeout = 10)
{
	double before = cpu_seconds();
	run_chain(1000, 300000, 3, false);
	double used = cpu_seconds() - before;
	cr_assert_lt(used, 0.15, "%.3f s of CPU in 600 ms", used);
}

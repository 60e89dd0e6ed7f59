/* The server's event loop (see event_loop.h).
 *
 * Why busy polling: on a virtual machine a CPU with nothing to do halts, and waking it
 * again goes through the hypervisor, which costs tens of microseconds. A request through
 * a tunnel wakes the server twice: when the request comes in and when the tunnel client
 * answers, usually a fraction of a millisecond later. Polling for a while after the first
 * wake-up catches the answer without the second one. The price is CPU: up to
 * busy_poll_us of a core per wake-up, so it is off by default (HAProxy's busy-polling
 * makes the same trade, without a bound). */
#include "event_loop.h"

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "monotonic.h"

/* After event_base_loop: it failed (-1), had nothing left to wait for (1), or was told to
 * stop. */
static bool loop_over(struct event_base *base, int rc)
{
	return rc != 0 || event_base_got_exit(base) || event_base_got_break(base);
}

int event_loop_run(struct event_base *base, long busy_poll_us)
{
	if (busy_poll_us <= 0)
		return event_base_dispatch(base) < 0 ? -1 : 0;
	for (;;) {
		/* Sleeps until something happens, and runs it. */
		int rc = event_base_loop(base, EVLOOP_ONCE);
		if (loop_over(base, rc))
			return rc < 0 ? -1 : 0;
		uint64_t now = monotonic_us();
		uint64_t until = now + (uint64_t)busy_poll_us;
		/* now == 0: no clock, no polling. */
		while (now != 0 && now < until) {
			rc = event_base_loop(base, EVLOOP_NONBLOCK);
			if (loop_over(base, rc))
				return rc < 0 ? -1 : 0;
			now = monotonic_us();
		}
	}
}

/* The server's event loop, with optional busy polling after each wake-up. */
#ifndef EXPOSR_CORE_EVENT_LOOP_H
#define EXPOSR_CORE_EVENT_LOOP_H

struct event_base;

/* Runs the loop until event_base_loopexit/loopbreak or until no event is left, as
 * event_base_dispatch does. With busy_poll_us > 0, after each wake-up the loop keeps
 * polling without sleeping for that many microseconds. Returns 0, or -1 if the loop
 * failed. */
int event_loop_run(struct event_base *base, long busy_poll_us);

#endif

/* tunnel connect: set up the account and tunnel as the exposr 0.10 client does
 * (docs/api.md §2.8, Appendix A), then keep transport.max_connections websockets up until
 * Ctrl-C, each reconnecting with back-off and stopping for good on close code 1008. */
#ifndef EXPOSR_CLIENT_CONNECT_H
#define EXPOSR_CLIENT_CONNECT_H

#include "args.h"
#include "command.h"

struct event_base;

/* The process's exit status. */
int connect_run(struct event_base *base, const struct args *a, const struct command *c);

/* Back-off after a failed attempt: 1 s at first, then ×1.1 to ×1.15 per failure (jitter
 * from `random01` in [0, 1)), at most 5 s (docs/transport.md §4.10). */
double connect_next_backoff(double current_ms, double random01);
#define CONNECT_BACKOFF_FIRST_MS 1000.0
#define CONNECT_BACKOFF_MAX_MS   5000.0

#endif

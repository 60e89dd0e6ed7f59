/* Timers on the event loop, owned by modules so they can be freed with them. */
#ifndef EXPOSR_CORE_TIMER_H
#define EXPOSR_CORE_TIMER_H

#include <exposr/host.h>

void timers_init(struct event_base *base);
struct exposr_timer *timer_add(struct exposr_module_handle *mod, uint64_t ms, bool repeat,
                               exposr_timer_cb cb, void *arg);
void timer_cancel(struct exposr_timer *timer);
void timers_remove_module(struct exposr_module_handle *mod);
size_t timers_count(void);

#endif

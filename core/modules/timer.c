/* Timers on the event loop, owned by modules so they can be freed with them. */
#include "timer.h"

#include <event2/event.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "timeval_ms.h"

struct exposr_timer {
	struct event *ev;
	struct exposr_module_handle *owner;
	exposr_timer_cb cb;
	void *arg;
	bool repeat;
	LIST_ENTRY(exposr_timer) link;
};

static struct event_base *timer_base;
static LIST_HEAD(, exposr_timer) timers = LIST_HEAD_INITIALIZER(timers);

void timers_init(struct event_base *base)
{
	timer_base = base;
}

void timer_cancel(struct exposr_timer *t)
{
	if (t == NULL)
		return;
	LIST_REMOVE(t, link);
	event_free(t->ev);
	free(t);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct exposr_timer *t = arg;
	exposr_timer_cb cb = t->cb;
	void *cb_arg = t->arg;
	/* A one-shot timer is gone before its callback runs, so the callback may
	 * freely add timers or unload things. */
	if (!t->repeat)
		timer_cancel(t);
	cb(cb_arg);
}

struct exposr_timer *timer_add(struct exposr_module_handle *mod, uint64_t ms, bool repeat,
                               exposr_timer_cb cb, void *arg)
{
	if (timer_base == NULL || cb == NULL)
		return NULL;
	struct exposr_timer *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ev = event_new(timer_base, -1, repeat ? EV_PERSIST : 0, on_timer, t);
	struct timeval tv = timeval_from_ms(ms);
	if (t->ev == NULL || event_add(t->ev, &tv) != 0) {
		if (t->ev != NULL)
			event_free(t->ev);
		free(t);
		return NULL;
	}
	t->owner = mod;
	t->cb = cb;
	t->arg = arg;
	t->repeat = repeat;
	LIST_INSERT_HEAD(&timers, t, link);
	return t;
}

void timers_remove_module(struct exposr_module_handle *mod)
{
	struct exposr_timer *t = LIST_FIRST(&timers);
	while (t != NULL) {
		struct exposr_timer *next = LIST_NEXT(t, link);
		if (t->owner == mod)
			timer_cancel(t);
		t = next;
	}
}

size_t timers_count(void)
{
	size_t n = 0;
	struct exposr_timer *t;
	LIST_FOREACH(t, &timers, link)
	n++;
	return n;
}

/* Timers on the event loop, owned by modules so they can be freed with them. */
#include "timer.h"

#include <event2/event.h>
#include <stdlib.h>

struct exposr_timer {
	struct event *ev;
	struct exposr_module_handle *owner;
	exposr_timer_cb cb;
	void *arg;
	bool repeat;
	struct exposr_timer *prev, *next;
};

static struct event_base *timer_base;
static struct exposr_timer *timers_head;

void timers_init(struct event_base *base)
{
	timer_base = base;
}

static void unlink_timer(struct exposr_timer *t)
{
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		timers_head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
}

void timer_cancel(struct exposr_timer *t)
{
	if (t == NULL)
		return;
	unlink_timer(t);
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
	struct timeval tv = {.tv_sec = (time_t)(ms / 1000),
	                     .tv_usec = (suseconds_t)(ms % 1000) * 1000};
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
	t->next = timers_head;
	if (timers_head != NULL)
		timers_head->prev = t;
	timers_head = t;
	return t;
}

void timers_remove_module(struct exposr_module_handle *mod)
{
	struct exposr_timer *t = timers_head;
	while (t != NULL) {
		struct exposr_timer *next = t->next;
		if (t->owner == mod)
			timer_cancel(t);
		t = next;
	}
}

size_t timers_count(void)
{
	size_t n = 0;
	for (struct exposr_timer *t = timers_head; t != NULL; t = t->next)
		n++;
	return n;
}

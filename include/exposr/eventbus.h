/* The event bus: signed cluster messages between nodes (or only this node). */
#ifndef EXPOSR_EVENTBUS_H
#define EXPOSR_EVENTBUS_H

#include "common.h"

/* message_json: the JSON text of the "message" member; node_id: the sender. */
typedef void (*exposr_event_cb)(void *arg, const char *event, const char *message_json,
				const char *node_id);

struct exposr_eventbus_vtable {
	size_t size;
	int (*publish)(void *self, const char *event, const char *message_json);
	int (*subscribe)(void *self, exposr_event_cb cb, void *arg);
	void (*unsubscribe)(void *self, exposr_event_cb cb, void *arg);
};

#endif

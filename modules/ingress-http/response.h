/* Responses coming back through the channel, followed with llhttp without being
 * changed: where each head ends and each response ends. */
#ifndef EXPOSR_INGRESS_HTTP_RESPONSE_H
#define EXPOSR_INGRESS_HTTP_RESPONSE_H

#include <stddef.h>

#include <llhttp.h>

#include "ingress_http.h"

struct response_events {
	/* A head is complete (interim 1xx ones too). True when its request was HEAD, so
	 * that no body follows. */
	bool (*head)(void *arg, int status);
};

struct response_tracker {
	llhttp_t parser;
	const struct response_events *events;
	void *arg;
	bool in_head; /* a response started and its head is not complete */
	bool ended;   /* set when a response ended inside the last feed */
	bool interim; /* ... and it was a 1xx */
};

enum response_feed {
	RESPONSE_MORE,   /* every byte belongs to the response under way */
	RESPONSE_END,    /* a response ended after *used bytes */
	RESPONSE_BROKEN, /* not HTTP (or a protocol switch nobody asked for) */
};

void response_tracker_init(struct response_tracker *t, const struct response_events *events,
                           void *arg);

/* Follows `len` bytes; *used is how many were taken (all of them unless a response ended
 * inside). After RESPONSE_END, response_interim() says whether it was a 1xx. */
enum response_feed response_feed(struct response_tracker *t, const char *data, size_t len,
                                 size_t *used);

bool response_interim(const struct response_tracker *t);

/* The channel ended: true when that completed a response that runs until the end. */
bool response_finish(struct response_tracker *t);

#endif

/* Responses coming back from a target (through the HTTP ingress's channel), followed with
 * llhttp without being changed: where each head ends and each response ends. The one
 * place responses are parsed. */
#ifndef EXPOSR_HTTP_RESPONSE_H
#define EXPOSR_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include <llhttp.h>

struct http_response_events {
	/* A head is complete (interim 1xx ones too). True when its request was HEAD, so
	 * that no body follows. */
	bool (*head)(void *arg, int status);
};

struct http_response_tracker {
	llhttp_t parser;
	const struct http_response_events *events;
	void *arg;
	bool in_head; /* a response started and its head is not complete */
	bool ended;   /* set when a response ended inside the last feed */
	bool interim; /* ... and it was a 1xx */
};

enum http_response_feed {
	HTTP_RESPONSE_MORE,   /* every byte belongs to the response under way */
	HTTP_RESPONSE_END,    /* a response ended after *used bytes */
	HTTP_RESPONSE_BROKEN, /* not HTTP (or a protocol switch nobody asked for) */
};

void http_response_init(struct http_response_tracker *t, const struct http_response_events *events,
                        void *arg);

/* Follows `len` bytes; *used is how many were taken (all of them unless a response ended
 * inside). After HTTP_RESPONSE_END, http_response_interim() says whether it was a 1xx. */
enum http_response_feed http_response_feed(struct http_response_tracker *t, const char *data,
                                           size_t len, size_t *used);

bool http_response_interim(const struct http_response_tracker *t);

/* The channel ended: true when that completed a response that runs until the end. */
bool http_response_finish(struct http_response_tracker *t);

#endif

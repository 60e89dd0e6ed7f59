/* A request a module answers later (after a service calls back): tracked so that stop()
 * can wait for the answers, and answered and freed in one step so nothing outlives it. */
#ifndef EXPOSR_MODULE_COMMON_CALL_H
#define EXPOSR_MODULE_COMMON_CALL_H

#include <sys/queue.h>

#include <exposr/host.h>

#include "whatwg_url.h"

struct cJSON;
struct call;

struct call_tracker {
	const struct exposr_host *host;
	struct exposr_module_handle *mod;
	LIST_HEAD(, call) calls;
	bool stopping;
	bool reported;
};

/* Embedded first in a module's own request context. */
struct call {
	struct call_tracker *tracker;
	LIST_ENTRY(call) link;
	struct exposr_http_request *req;
	struct url_parts base; /* the request's base URL (docs/api.md §2.1) */
	/* Frees the module's context around the call (the call is unlinked already). */
	void (*release)(struct call *call);
};

void call_tracker_init(struct call_tracker *t, const struct exposr_host *host,
                       struct exposr_module_handle *mod);
/* For the module's stop(): EXPOSR_OK when nothing is pending, else EXPOSR_AGAIN and
 * host->drained() once the last call is answered. */
int call_tracker_stop(struct call_tracker *t);
/* For the module's fini(): frees every call still pending without answering it. */
void call_tracker_abandon_all(struct call_tracker *t);

void call_begin(struct call_tracker *t, struct call *call, struct exposr_http_request *req,
                const struct url_parts *base, void (*release)(struct call *call));

/* Each answers the request and releases the call: nothing may touch it afterwards. */
void call_json(struct call *call, int status, struct cJSON *body); /* deletes body; NULL: 500 */
void call_error(struct call *call, int status, const char *code, const char *detail_key,
                const char *detail);
void call_text(struct call *call, int status);
void call_empty(struct call *call, int status);
/* When a storage call failed (EXPOSR_ERROR: the back-end is down), answers 503
 * {"error":"UNKNOWN_ERROR","details":"storage_unavailable"} and returns true. */
bool call_unavailable(struct call *call, int status);

#endif

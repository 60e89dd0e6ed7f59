/* A request a module answers later: tracked for stop(), answered and freed in one step. */
#include "common/call.h"

#include <cjson/cJSON.h>

#include "common/respond.h"

void call_tracker_init(struct call_tracker *t, const struct exposr_host *host,
                       struct exposr_module_handle *mod)
{
	t->host = host;
	t->mod = mod;
	LIST_INIT(&t->calls);
	t->stopping = false;
	t->reported = false;
}

void call_begin(struct call_tracker *t, struct call *call, struct exposr_http_request *req,
                const struct url_parts *base, void (*release)(struct call *call))
{
	call->tracker = t;
	call->req = req;
	call->base = *base;
	call->release = release;
	LIST_INSERT_HEAD(&t->calls, call, link);
}

static void call_end(struct call *call)
{
	struct call_tracker *t = call->tracker;
	LIST_REMOVE(call, link);
	call->release(call);
	if (t->stopping && LIST_EMPTY(&t->calls) && !t->reported) {
		t->reported = true;
		t->host->drained(t->mod);
	}
}

int call_tracker_stop(struct call_tracker *t)
{
	t->stopping = true;
	if (!LIST_EMPTY(&t->calls))
		return EXPOSR_AGAIN;
	t->reported = true;
	return EXPOSR_OK;
}

void call_tracker_abandon_all(struct call_tracker *t)
{
	t->reported = true; /* nobody waits for a drain any more */
	while (!LIST_EMPTY(&t->calls))
		call_end(LIST_FIRST(&t->calls));
}

void call_json(struct call *call, int status, struct cJSON *body)
{
	const struct exposr_host *host = call->tracker->host;
	if (body == NULL)
		respond_text(host, call->req, 500);
	else
		respond_json(host, call->req, status, body);
	cJSON_Delete(body);
	call_end(call);
}

void call_error(struct call *call, int status, const char *code, const char *detail_key,
                const char *detail)
{
	respond_error(call->tracker->host, call->req, status, code, detail_key, detail);
	call_end(call);
}

void call_text(struct call *call, int status)
{
	respond_text(call->tracker->host, call->req, status);
	call_end(call);
}

void call_empty(struct call *call, int status)
{
	respond_empty(call->tracker->host, call->req, status);
	call_end(call);
}

bool call_unavailable(struct call *call, int status)
{
	if (status != EXPOSR_ERROR)
		return false;
	call_error(call, 503, "UNKNOWN_ERROR", "details", "storage_unavailable");
	return true;
}

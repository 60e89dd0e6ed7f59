/* The API's request context: the common call plus what the tunnel routes carry along. */
#include <stdlib.h>
#include <string.h>

#include "api_v1.h"
#include "common/tunnel_object.h"
#include "tunnel_update.h"

static void api_call_release(struct call *base)
{
	struct api_call *call = (struct api_call *)base;
	if (call->update != NULL)
		tunnel_update_free(call->update);
	tunnel_patch_free(&call->patch);
	free(call);
}

struct api_call *api_call_new(struct api_v1 *api, struct exposr_http_request *req,
                              const struct url_parts *base)
{
	struct api_call *call = calloc(1, sizeof(*call));
	if (call == NULL)
		return NULL;
	call->api = api;
	tunnel_patch_init(&call->patch);
	call_begin(&api->calls, &call->call, req, base, api_call_release);
	return call;
}

bool api_call_owns(const struct api_call *call, const struct cJSON *record)
{
	const char *account = record_string(record, "account");
	return account != NULL && strcmp(account, call->account_id) == 0;
}

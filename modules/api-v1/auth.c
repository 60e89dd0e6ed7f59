/* Authentication of the tunnel routes (docs/api.md §2.1): the bearer token is the base64
 * of the account number; a disabled account may still use the API. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api_v1.h"
#include "common/bearer.h"
#include "common/call.h"
#include "common/request.h"

struct auth_wait {
	struct api_call *call;
	void (*next)(struct api_call *call);
};

static void on_account(void *arg, int status, const struct cJSON *record)
{
	(void)record;
	struct auth_wait wait = *(struct auth_wait *)arg;
	free(arg);
	if (call_unavailable(&wait.call->call, status))
		return;
	if (status != EXPOSR_OK) {
		call_error(&wait.call->call, 401, "PERMISSION_DENIED", NULL, NULL);
		return;
	}
	wait.next(wait.call);
}

void api_authenticate(struct api_call *call, void (*next)(struct api_call *call))
{
	const struct exposr_host *host = call->api->host;
	char *decoded;
	size_t len;
	int rc = bearer_decode(request_header(call->call.req, "Authorization"), &decoded, &len);
	if (rc == -2) {
		call_text(&call->call, 500);
		return;
	}
	if (rc < 0 || len == 0) {
		free(decoded);
		call_error(&call->call, 401, "AUTH_NO_TOKEN", NULL, NULL);
		return;
	}
	/* Bytes a C string cannot carry cannot spell an account number either. */
	bool valid = memchr(decoded, '\0', len) == NULL &&
	             host->accounts->normalize(decoded, call->account_id);
	free(decoded);
	if (!valid) {
		call_error(&call->call, 401, "PERMISSION_DENIED", NULL, NULL);
		return;
	}
	struct auth_wait *wait = malloc(sizeof(*wait));
	if (wait == NULL) {
		call_text(&call->call, 500);
		return;
	}
	wait->call = call;
	wait->next = next;
	host->accounts->get(call->account_id, on_account, wait);
}

/* POST /v1/account and GET /v1/account/<account>/token (docs/api.md §2.2, §2.3). */
#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "api_v1.h"
#include "common/call.h"
#include "common/tunnel_object.h"

static void on_created(void *arg, int status, const struct cJSON *record)
{
	struct api_call *call = arg;
	const struct exposr_host *host = call->api->host;
	const char *id = record_string(record, "id");
	if (status != EXPOSR_OK || id == NULL) {
		call_text(&call->call, 503);
		return;
	}
	char hr[EXPOSR_ACCOUNT_ID_LEN * 2];
	host->accounts->format_hr(id, hr, sizeof(hr));
	cJSON *body = cJSON_CreateObject();
	if (body != NULL && (cJSON_AddStringToObject(body, "account_id", id) == NULL ||
	                     cJSON_AddStringToObject(body, "account_id_hr", hr) == NULL)) {
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 201, body);
}

void route_register(struct api_call *call)
{
	/* The clients read only the status here; the body is for people with curl. */
	if (!call->api->allow_registration) {
		call_error(
		        &call->call, 404, "ACCOUNT_REGISTRATION_DISABLED", "details",
		        "this server does not register accounts (--allow-registration); its admin "
		        "creates them with POST /v1/admin/account");
		return;
	}
	call->api->host->accounts->create(on_created, call);
}

static void on_account(void *arg, int status, const struct cJSON *record)
{
	(void)record;
	struct api_call *call = arg;
	if (call_unavailable(&call->call, status))
		return;
	if (status != EXPOSR_OK) {
		call_error(&call->call, 403, "PERMISSION_DENIED", NULL, NULL);
		return;
	}
	/* Standard base64 with padding: four characters for every three bytes, and a NUL. */
	char token[(EXPOSR_ACCOUNT_ID_LEN + 2) / 3 * 4 + 1];
	EVP_EncodeBlock((unsigned char *)token, (const unsigned char *)call->account_id,
	                EXPOSR_ACCOUNT_ID_LEN);
	cJSON *body = cJSON_CreateObject();
	if (body != NULL && cJSON_AddStringToObject(body, "token", token) == NULL) {
		cJSON_Delete(body);
		body = NULL;
	}
	call_json(&call->call, 201, body);
}

void route_token(struct api_call *call, const char *account)
{
	const struct exposr_host *host = call->api->host;
	if (!host->accounts->normalize(account, call->account_id)) {
		call_error(&call->call, 403, "PERMISSION_DENIED", NULL, NULL);
		return;
	}
	host->accounts->get(call->account_id, on_account, call);
}

/* API steps (see session.h). */
#include "session.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static const cJSON *walk(const cJSON *obj, va_list ap)
{
	const char *key;
	while (obj != NULL && (key = va_arg(ap, const char *)) != NULL)
		obj = cJSON_GetObjectItemCaseSensitive(obj, key);
	return obj;
}

const char *session_string(const cJSON *obj, ...)
{
	va_list ap;
	va_start(ap, obj);
	const cJSON *v = walk(obj, ap);
	va_end(ap);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double session_number(const cJSON *obj, double fallback, ...)
{
	va_list ap;
	va_start(ap, fallback);
	const cJSON *v = walk(obj, ap);
	va_end(ap);
	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

bool session_bool(const cJSON *obj, ...)
{
	va_list ap;
	va_start(ap, obj);
	const cJSON *v = walk(obj, ap);
	va_end(ap);
	return cJSON_IsTrue(v);
}

/* Runs one call; 0 when it answered 2xx, else -1 with the message. */
static int call(struct api *api, const char *method, const char *path, const char *body,
                struct api_result *r, char *err, size_t errlen)
{
	if (api_call(api, method, path, body, r) != 0 || r->status < 200 || r->status > 299) {
		snprintf(err, errlen, "%s", r->msg);
		return -1;
	}
	return 0;
}

int session_register(struct api *api, char account[ACCOUNT_MAX], char *err, size_t errlen)
{
	struct api_result r;
	if (call(api, "POST", "v1/account", "{}", &r, err, errlen) != 0) {
		/* The clients' reading of a 404 here (docs/api.md §2.2). */
		if (r.status == 404)
			snprintf(err, errlen, "Account registration not enabled on %s",
			         api_server(api));
		api_result_clear(&r);
		return -1;
	}
	const char *id = session_string(r.json, "account_id_hr", NULL);
	if (id == NULL)
		id = session_string(r.json, "account_id", NULL);
	int rc = -1;
	if (id == NULL || strlen(id) >= ACCOUNT_MAX)
		snprintf(err, errlen, "POST /v1/account: no account number in the answer");
	else
		rc = snprintf(account, ACCOUNT_MAX, "%s", id) > 0 ? 0 : -1;
	api_result_clear(&r);
	return rc;
}

static bool account_chars_ok(const char *account)
{
	for (const char *p = account; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return *account != '\0';
}

int session_login(struct api *api, const char *account, char *err, size_t errlen)
{
	if (!account_chars_ok(account) || strlen(account) >= ACCOUNT_MAX) {
		snprintf(err, errlen, "\"%s\" is not an account number", account);
		return -1;
	}
	char path[128];
	snprintf(path, sizeof(path), "v1/account/%s/token", account);
	struct api_result r;
	if (call(api, "GET", path, NULL, &r, err, errlen) != 0) {
		const char *code = api_error_code(&r);
		if (code != NULL && strcmp(code, "PERMISSION_DENIED") == 0)
			snprintf(err, errlen, "Permission denied: %s does not know account %s",
			         api_server(api), account);
		api_result_clear(&r);
		return -1;
	}
	const char *token = session_string(r.json, "token", NULL);
	int rc = -1;
	if (token == NULL)
		snprintf(err, errlen, "GET /v1/account/.../token: no token in the answer");
	else if (api_set_token(api, token) != 0)
		snprintf(err, errlen, "out of memory");
	else
		rc = 0;
	api_result_clear(&r);
	return rc;
}

/* Lower-case letters and digits: a valid tunnel id (docs/api.md §1.1). */
static int random_id(char id[TUNNEL_ID_MAX + 1])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char raw[16];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++)
		id[i] = alphabet[raw[i] % (sizeof(alphabet) - 1)];
	id[sizeof(raw)] = '\0';
	return 0;
}

int session_create(struct api *api, char id[TUNNEL_ID_MAX + 1], char *err, size_t errlen)
{
	if (id[0] == '\0' && random_id(id) != 0) {
		snprintf(err, errlen, "no random bytes for a tunnel id");
		return -1;
	}
	char path[128];
	snprintf(path, sizeof(path), "v1/tunnel/%s", id);
	struct api_result r;
	int rc = call(api, "PUT", path, "{}", &r, err, errlen);
	api_result_clear(&r);
	return rc;
}

int session_configure(struct api *api, const char *id, const struct command *c, char *err,
                      size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "v1/tunnel/%s", id);
	for (int i = 0; i < c->nsettings; i++) {
		struct api_result r;
		int rc = call(api, "PATCH", path, c->settings[i].body, &r, err, errlen);
		api_result_clear(&r);
		if (rc != 0)
			return -1;
	}
	return 0;
}

cJSON *session_tunnel(struct api *api, const char *id, char *code, size_t codelen, char *err,
                      size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "v1/tunnel/%s", id);
	struct api_result r;
	if (code != NULL)
		code[0] = '\0';
	if (call(api, "GET", path, NULL, &r, err, errlen) != 0) {
		if (code != NULL && api_error_code(&r) != NULL)
			snprintf(code, codelen, "%s", api_error_code(&r));
		api_result_clear(&r);
		return NULL;
	}
	if (r.json == NULL)
		snprintf(err, errlen, "GET /v1/tunnel/%s: the answer is not JSON", id);
	return r.json;
}

/* Answers in the shapes the API promises: compact JSON, or the reason phrase as text. */
#include "common/respond.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static const struct exposr_http_header json_headers[] = {
        {"Content-Type", "application/json; charset=utf-8"},
        {NULL, NULL},
};

static const struct exposr_http_header text_headers[] = {
        {"Content-Type", "text/plain; charset=utf-8"},
        {NULL, NULL},
};

void respond_text(const struct exposr_host *host, struct exposr_http_request *req, int status)
{
	const char *reason = host->http->reason(status);
	host->http->respond(req, status, text_headers, reason, strlen(reason));
}

void respond_empty(const struct exposr_host *host, struct exposr_http_request *req, int status)
{
	host->http->respond(req, status, NULL, NULL, 0);
}

void respond_json(const struct exposr_host *host, struct exposr_http_request *req, int status,
                  const struct cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	if (text == NULL) {
		respond_text(host, req, 500);
		return;
	}
	host->http->respond(req, status, json_headers, text, strlen(text));
	cJSON_free(text);
}

void respond_error(const struct exposr_host *host, struct exposr_http_request *req, int status,
                   const char *code, const char *detail_key, const char *detail)
{
	cJSON *body = cJSON_CreateObject();
	if (body == NULL || cJSON_AddStringToObject(body, "error", code) == NULL ||
	    (detail_key != NULL && cJSON_AddStringToObject(body, detail_key, detail) == NULL)) {
		cJSON_Delete(body);
		respond_text(host, req, 500);
		return;
	}
	respond_json(host, req, status, body);
	cJSON_Delete(body);
}

void respond_bad_input(const struct exposr_host *host, struct exposr_http_request *req,
                       const char *field)
{
	respond_error(host, req, 400, "BAD_INPUT", "field", field);
}

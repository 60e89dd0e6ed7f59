/* Answers in the shapes the API promises: compact JSON, or the reason phrase as text. */
#ifndef EXPOSR_MODULE_COMMON_RESPOND_H
#define EXPOSR_MODULE_COMMON_RESPOND_H

#include <exposr/host.h>

struct cJSON;

/* `body` printed compactly, Content-Type: application/json; charset=utf-8. */
void respond_json(const struct exposr_host *host, struct exposr_http_request *req, int status,
                  const struct cJSON *body);
/* {"error":"<code>"} or {"error":"<code>","<detail_key>":"<detail>"}. */
void respond_error(const struct exposr_host *host, struct exposr_http_request *req, int status,
                   const char *code, const char *detail_key, const char *detail);
/* {"error":"BAD_INPUT","field":"<field>"} */
void respond_bad_input(const struct exposr_host *host, struct exposr_http_request *req,
                       const char *field);
/* The reason phrase ("Not Found") as text/plain; charset=utf-8. */
void respond_text(const struct exposr_host *host, struct exposr_http_request *req, int status);
/* No body at all (204, or the 400 for a request without a base URL). */
void respond_empty(const struct exposr_host *host, struct exposr_http_request *req, int status);

#endif

/* Calls to the server's public API v1 (docs/api.md §2): one connection per call, a 5 s
 * timeout, http or https (verified), the account token as a bearer token. */
#ifndef EXPOSR_CLIENT_SERVER_API_H
#define EXPOSR_CLIENT_SERVER_API_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct event_base;
struct api;

struct api_result {
	int status;    /* 0: no response */
	cJSON *json;   /* the parsed body, NULL if it was not JSON */
	char msg[512]; /* what went wrong, for the user, when status is 0 or above 299 */
};

typedef void (*api_cb)(void *arg, struct api_result *r);

/* `server` is -s's URL: the API's paths are appended to its path. NULL with a message. */
struct api *api_new(struct event_base *base, const char *server, char *err, size_t errlen);
void api_free(struct api *api);
/* The server URL, for messages. */
const char *api_server(const struct api *api);
/* The account's API token, sent with every later call; NULL sends none. */
int api_set_token(struct api *api, const char *token);

/* `path` is relative ("v1/tunnel/x"); `body` JSON or NULL. The callback gets a result it
 * must not keep (freed after). 0, or -1 when the call could not even start. */
int api_request(struct api *api, const char *method, const char *path, const char *body, api_cb cb,
                void *arg);
/* The same, running the event loop until the answer is in; the caller clears `r`. */
int api_call(struct api *api, const char *method, const char *path, const char *body,
             struct api_result *r);
void api_result_clear(struct api_result *r);

/* The API's error code in a response, or NULL. */
const char *api_error_code(const struct api_result *r);

#endif

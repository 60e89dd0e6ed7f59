/* The load client's calls to the public API v1 (docs/api.md §2), over a few kept-alive
 * connections that libevent's HTTP client queues requests on. */
#ifndef BENCH_API_CLIENT_H
#define BENCH_API_CLIENT_H

#include <stddef.h>

struct event_base;
struct api_client;

/* status is 0 when the request failed without a response; body is NUL-terminated. */
typedef void (*api_done_cb)(void *arg, int status, const char *body, size_t len);

struct api_client *api_client_new(struct event_base *base, const char *host, int port,
                                  int connections);
void api_client_free(struct api_client *api);
/* method: "GET", "POST", "PUT" or "PATCH"; token (the account's API token, sent as a
 * bearer token) and json_body may be NULL. 0 or -1. */
int api_client_request(struct api_client *api, const char *method, const char *path,
                       const char *token, const char *json_body, api_done_cb cb, void *arg);
/* The "Host" the requests carry ("<host>:<port>"). */
const char *api_client_host(const struct api_client *api);

#endif

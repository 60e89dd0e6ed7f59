/* Asynchronous DNS CNAME lookups on the event loop: one UDP query per name, no threads. */
#ifndef EXPOSR_API_V1_CNAME_H
#define EXPOSR_API_V1_CNAME_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct cname_resolver;
struct cname_query;

/* status: EXPOSR_OK with the CNAME targets (without trailing dot), EXPOSR_NOT_FOUND (no
 * such name, or no CNAME), EXPOSR_ERROR (timeout, server failure). Runs from the loop,
 * never inside cname_resolve. */
typedef void (*cname_cb)(void *arg, int status, const char *const *targets, size_t count);

/* `server` NULL: the first nameserver of /etc/resolv.conf (127.0.0.1:53 without one).
 * Each query is sent `attempts` times, `timeout_ms` apart. */
struct cname_resolver *cname_resolver_new(struct event_base *base, const struct sockaddr *server,
                                          socklen_t server_len, unsigned timeout_ms,
                                          unsigned attempts);
/* Cancels every pending query without calling back. */
void cname_resolver_free(struct cname_resolver *r);

/* NULL only on OOM (nothing will be called back). */
struct cname_query *cname_resolve(struct cname_resolver *r, const char *name, cname_cb cb,
                                  void *arg);
void cname_cancel(struct cname_query *q);

/* "host:port", "[v6]:port" or an address alone (port 53). */
int cname_parse_server(const char *text, struct sockaddr_storage *out, socklen_t *len);

#endif

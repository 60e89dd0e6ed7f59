/* The alt-name CNAME check of docs/api.md §2.9: every name must have a CNAME pointing at
 * the tunnel's own ingress host. */
#ifndef EXPOSR_API_V1_ALTNAME_CHECK_H
#define EXPOSR_API_V1_ALTNAME_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct cname_resolver;
struct altname_check;

/* Runs from the event loop once every name is resolved. `rejected` lists the names that
 * failed, in the order given, joined by ", " (NULL when all passed); `failed` is set
 * when the check itself could not be completed (out of memory). */
typedef void (*altname_check_cb)(void *arg, const char *rejected, bool failed);

/* `expected` is "<id>.<ingress host>"; the names are copied. NULL on OOM (no callback). */
struct altname_check *altname_check_start(struct cname_resolver *resolver, const char *expected,
                                          const char *const *names, size_t count,
                                          altname_check_cb cb, void *arg);
/* Stops the lookups; the callback will not run. */
void altname_check_cancel(struct altname_check *check);

#endif

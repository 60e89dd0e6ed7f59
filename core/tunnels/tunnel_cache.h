/* The last good record of each connected tunnel, so traffic through a connected
 * tunnel keeps flowing while the storage is down. */
#ifndef EXPOSR_CORE_TUNNEL_CACHE_H
#define EXPOSR_CORE_TUNNEL_CACHE_H

#include <exposr/common.h>

struct cJSON;

/* Keeps a copy of `record` (replacing an older one). */
void tunnel_cache_put(const char *tunnel_id, const struct cJSON *record);
/* The copy, or NULL. */
const struct cJSON *tunnel_cache_get(const char *tunnel_id);
void tunnel_cache_drop(const char *tunnel_id);
void tunnel_cache_free(void);

#endif

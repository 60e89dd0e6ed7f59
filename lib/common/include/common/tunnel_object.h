/* The tunnel as the APIs show it (docs/api.md §2.7 and §3.2), built from a stored record. */
#ifndef EXPOSR_MODULE_COMMON_TUNNEL_OBJECT_H
#define EXPOSR_MODULE_COMMON_TUNNEL_OBJECT_H

#include <exposr/host.h>

#include "whatwg_url.h"

struct cJSON;

/* The websocket endpoint of a tunnel for a request with base URL `base`: scheme ws (wss
 * when the base is https), path /v1/tunnel/<id>/ws-endpoint, query t=<token>. */
int ws_endpoint_url(const struct url_parts *base, const char *tunnel_id, const char *token,
                    char *out, size_t size);

/* The public API's tunnel object: id, connection (epoch ms), transport, endpoints (the
 * pre-0.5 clients' name of transport, docs/legacy-clients.md §14.5 C4), ingress (a disabled block
 * as
 * {}), target, upstream (a copy of target, C4), created_at. NULL on OOM. */
struct cJSON *tunnel_object_public(const struct exposr_host *host, const struct cJSON *record,
                                   const struct url_parts *base);

/* The admin API's tunnel object: tunnel_id, account_id, connection (ISO times),
 * connections, transport with the token, the stored ingress and target, created_at,
 * updated_at. NULL on OOM. */
struct cJSON *tunnel_object_admin(const struct exposr_host *host, const struct cJSON *record,
                                  const struct url_parts *base);

/* Typed reads of a stored record; `path` is dotted ("transport.ws.enabled"). */
const struct cJSON *record_at(const struct cJSON *record, const char *path);
const char *record_string(const struct cJSON *record, const char *path);
bool record_bool(const struct cJSON *record, const char *path);

#endif

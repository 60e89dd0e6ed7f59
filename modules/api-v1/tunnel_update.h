/* Applying a PUT/PATCH to a tunnel: the alt-name check and claims (docs/api.md §2.9, D8,
 * D9, §13), then the locked read-modify-write that also recomputes the ingress blocks. */
#ifndef EXPOSR_API_V1_TUNNEL_UPDATE_H
#define EXPOSR_API_V1_TUNNEL_UPDATE_H

struct api_call;
struct cJSON;
struct tunnel_update;

/* `record` is the tunnel as read, owned by the caller's account. Answers the call. */
void tunnel_update_start(struct api_call *call, const struct cJSON *record);
/* Cancels what is in flight (the call is being freed). */
void tunnel_update_free(struct tunnel_update *update);

#endif

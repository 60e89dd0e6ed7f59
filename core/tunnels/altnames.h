/* Alt-name claims (docs/api.md §2.9, docs/storage.md §8.1): namespace ingress-altnames, key
 * "<service>-<name>", value {"tunnelId":"<id>","created_at":"<ISO>"}. */
#ifndef EXPOSR_CORE_ALTNAMES_H
#define EXPOSR_CORE_ALTNAMES_H

#include <exposr/tunnels.h>

typedef void (*altnames_set_cb)(void *arg, int status, const char *conflict);

/* The tunnel API's set_alt_names, under the tunnel's key lock: claims every name
 * (create-if-absent); on a name held by another tunnel releases what this call
 * claimed and answers EXPOSR_EXISTS with that name; else releases the tunnel's stored
 * names that are no longer requested. EXPOSR_NOT_FOUND when the tunnel is absent. */
void altnames_set(const char *tunnel_id, const char *const *names, size_t count, altnames_set_cb cb,
                  void *arg);
void altnames_lookup(const char *service, const char *name, exposr_lookup_cb cb, void *arg);
/* Releases each of `names` still claimed by the tunnel; the caller holds the tunnel's
 * lock (tunnel removal). */
void altnames_release(const char *tunnel_id, const char *const *names, size_t count,
                      exposr_done_cb cb, void *arg);

#endif

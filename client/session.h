/* The API steps the commands share: the account and its token, tunnel settings, reading
 * the tunnel object. Each prints nothing; on failure it leaves a message in err. */
#ifndef EXPOSR_CLIENT_SESSION_H
#define EXPOSR_CLIENT_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "command.h"
#include "server_api.h"

#define ACCOUNT_MAX   64
#define TUNNEL_ID_MAX 64

/* POST /v1/account: the new account's number (account_id_hr). */
int session_register(struct api *api, char account[ACCOUNT_MAX], char *err, size_t errlen);
/* GET /v1/account/<account>/token, then every call carries the token. */
int session_login(struct api *api, const char *account, char *err, size_t errlen);
/* PUT /v1/tunnel/<id> {} (a random id when `id` is empty, written back). */
int session_create(struct api *api, char id[TUNNEL_ID_MAX + 1], char *err, size_t errlen);
/* One PATCH per setting, in order. */
int session_configure(struct api *api, const char *id, const struct command *c, char *err,
                      size_t errlen);
/* GET /v1/tunnel/<id>: the tunnel object (the caller frees it), NULL on failure; when
 * `code` is given it gets the API's error code ("" if none). */
cJSON *session_tunnel(struct api *api, const char *id, char *code, size_t codelen, char *err,
                      size_t errlen);

/* A string at a path of keys ("ingress", "http", "url", NULL), or NULL. */
const char *session_string(const cJSON *obj, ...);
/* A number at a path of keys, or `fallback`. */
double session_number(const cJSON *obj, double fallback, ...);
/* A boolean at a path of keys (false when absent). */
bool session_bool(const cJSON *obj, ...);

#endif

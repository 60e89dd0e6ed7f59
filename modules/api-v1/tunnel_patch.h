/* The body of PUT/PATCH /v1/tunnel/<id>, validated with Joi's messages (docs/api.md §2.5). */
#ifndef EXPOSR_API_V1_TUNNEL_PATCH_H
#define EXPOSR_API_V1_TUNNEL_PATCH_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;
struct joi_error;

#define ALT_NAMES_MAX 10

/* What the body asks for; -1 / false means "leave the stored value alone". */
struct tunnel_patch {
	int http_enabled;
	int sni_enabled;
	int ws_enabled;
	int ssh_enabled;
	bool target_set;
	char *target_url; /* NULL with target_set: remove the target */
	bool alt_names_set;
	char *alt_names[ALT_NAMES_MAX]; /* lower-cased, duplicates dropped, in request order */
	size_t alt_count;
	/* A top-level `upstream` or `endpoints`: a pre-0.5 client's body (docs/legacy-clients.md
	 * §14.5 C3). */
	bool legacy;
};

void tunnel_patch_init(struct tunnel_patch *p);
/* EXPOSR_OK, EXPOSR_DECLINED with err set (400), EXPOSR_ERROR on OOM. */
int tunnel_patch_parse(const struct cJSON *body, struct tunnel_patch *out, struct joi_error *err);
void tunnel_patch_free(struct tunnel_patch *p);

#endif

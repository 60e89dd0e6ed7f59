/* Route paths matched the way koa-router matches them. */
#ifndef EXPOSR_MODULE_COMMON_PATH_MATCH_H
#define EXPOSR_MODULE_COMMON_PATH_MATCH_H

#include <stddef.h>

#define PATH_PARAMS_MAX 3

struct path_params {
	char *value[PATH_PARAMS_MAX]; /* percent-decoded (raw when that fails) */
	size_t count;
};

enum path_match_result { PATH_NO_MATCH = 0, PATH_MATCH = 1, PATH_MATCH_ERROR = -1 };

/* `pattern` is like "/v1/tunnel/:id/disconnect": literal segments match without regard
 * to case, each ":name" takes one non-empty segment, and one trailing slash is allowed.
 * On PATH_MATCH the caller frees `out` with path_params_free; otherwise it is empty. */
enum path_match_result path_match(const char *path, const char *pattern, struct path_params *out);
void path_params_free(struct path_params *params);

#endif

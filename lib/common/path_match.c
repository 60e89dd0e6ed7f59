/* Route paths matched the way koa-router (path-to-regexp, not strict, not case-sensitive)
 * matches them, with its safe decodeURIComponent for parameters. */
#include "common/path_match.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "percent_decode.h"

void path_params_free(struct path_params *params)
{
	for (size_t i = 0; i < params->count; i++)
		free(params->value[i]);
	params->count = 0;
}

enum path_match_result path_match(const char *path, const char *pattern, struct path_params *out)
{
	out->count = 0;
	const char *p = path, *q = pattern;
	while (*q != '\0') {
		/* Both sit on a '/' starting a segment. */
		if (*p != '/' || *q != '/')
			goto no_match;
		p++;
		q++;
		size_t seg_len = strcspn(p, "/");
		size_t pat_len = strcspn(q, "/");
		if (q[0] == ':') {
			if (seg_len == 0 || out->count == PATH_PARAMS_MAX)
				goto no_match;
			char *value = percent_decode(p, seg_len);
			if (value == NULL) {
				path_params_free(out);
				return PATH_MATCH_ERROR;
			}
			out->value[out->count++] = value;
		} else if (seg_len != pat_len || strncasecmp(p, q, seg_len) != 0) {
			goto no_match;
		}
		p += seg_len;
		q += pat_len;
	}
	if (*p == '\0' || (p[0] == '/' && p[1] == '\0'))
		return PATH_MATCH;
no_match:
	path_params_free(out);
	return PATH_NO_MATCH;
}

/* Header lookup in a parsed request head. */
#include "request_header.h"

#include <strings.h>

const char *request_header(const struct exposr_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

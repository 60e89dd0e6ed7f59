/* Reading request heads without the host table. */
#include "common/request.h"

#include <string.h>
#include <strings.h>

const char *request_header(const struct exposr_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

bool request_method_is(const struct exposr_http_request *req, const char *method)
{
	if (strcmp(req->method, method) == 0)
		return true;
	return strcmp(method, "GET") == 0 && strcmp(req->method, "HEAD") == 0;
}

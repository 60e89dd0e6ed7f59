/* Reading request heads without the host table. */
#include "common/request.h"

#include <string.h>

bool request_method_is(const struct exposr_http_request *req, const char *method)
{
	if (strcmp(req->method, method) == 0)
		return true;
	return strcmp(method, "GET") == 0 && strcmp(req->method, "HEAD") == 0;
}

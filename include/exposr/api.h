/* API front ends register under EXPOSR_KIND_API so other modules and the admin
 * interface can tell which are running. */
#ifndef EXPOSR_API_H
#define EXPOSR_API_H

#include "common.h"

struct exposr_api_vtable {
	size_t size;
	/* The base URL this API hands out when a request does not say, or NULL. */
	const char *(*public_url)(void *self);
};

#endif

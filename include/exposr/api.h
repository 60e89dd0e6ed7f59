/* API front ends register under EXPOSR_KIND_API (registry->add_api), which says an API
 * is running. The vtable has no slots yet: it grows at its end when something needs to
 * call an API module. */
#ifndef EXPOSR_API_H
#define EXPOSR_API_H

#include "common.h"

struct exposr_api_vtable {
	size_t size;
};

#endif

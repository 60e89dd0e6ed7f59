/* Ingresses: where public traffic enters. Registered with registry->add_ingress so the
 * API can compute a tunnel's public URLs. */
#ifndef EXPOSR_INGRESS_H
#define EXPOSR_INGRESS_H

#include "common.h"

struct exposr_ingress_vtable {
	size_t size;
	/* Mandatory. Writes the tunnel's primary URL for this ingress into out (NUL-terminated).
	 * EXPOSR_ERROR if it does not fit. */
	int (*tunnel_url)(void *self, const char *tunnel_id, char *out, size_t out_size);
};

#endif

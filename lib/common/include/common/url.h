/* The URL parser moved to lib/util (whatwg_url.h); ingress-http still includes it by this
 * name until its rewrite lands, then this file goes. */
#ifndef EXPOSR_MODULE_COMMON_URL_H
#define EXPOSR_MODULE_COMMON_URL_H

#include "whatwg_url.h"

#endif

/* Value formats the API checks: domain names (alt-names) and URIs (target URLs). */
#ifndef EXPOSR_MODULE_COMMON_VALIDATE_H
#define EXPOSR_MODULE_COMMON_VALIDATE_H

#include <stdbool.h>

/* Joi's string().domain(): at least two labels of letters, digits and inner hyphens,
 * each at most 63 characters, a top-level label that starts with a letter, at most 256
 * characters, no trailing dot. (exposrd also requires an IANA top-level domain; this
 * server does not, so names under test domains work.) ASCII only. */
bool domain_name_valid(const char *name);

/* Joi's string().uri(): an absolute RFC 3986 URI (scheme required). */
bool uri_valid(const char *uri);

/* docs/api.md §1.1: ^(?:[a-z0-9][a-z0-9\-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$ */
bool tunnel_id_valid(const char *id);

#endif

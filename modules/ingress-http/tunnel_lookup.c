/* Which tunnel a request's Host names (docs/ingress.md §5.2), and loop detection (§5.6). */
#include "tunnel_lookup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http_ows.h"

bool tunnel_host_of(const char *host_header, char *out, size_t size)
{
	if (host_header == NULL)
		return false;
	size_t len = strcspn(host_header, ":");
	if (len == 0 || len >= size)
		return false;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)host_header[i]);
	out[len] = '\0';
	return true;
}

bool tunnel_id_from_subdomain(const char *host, const char *domain, char *id, size_t size)
{
	const char *dot = strchr(host, '.');
	if (dot == NULL || domain[0] == '\0' || strcmp(dot + 1, domain) != 0)
		return false;
	size_t len = (size_t)(dot - host);
	if (len >= size)
		return false;
	memcpy(id, host, len);
	id[len] = '\0';
	return true;
}

static bool list_has(const char *list, const char *word)
{
	size_t word_len = strlen(word);
	const char *p = list;
	for (;;) {
		size_t len = strcspn(p, ",");
		const char *start = p;
		size_t trimmed = http_trim_ows(&start, len);
		if (trimmed == word_len && memcmp(start, word, word_len) == 0)
			return true;
		if (p[len] == '\0')
			return false;
		p += len + 1;
	}
}

bool tunnel_alt_name_candidate(const char *host)
{
	if (strchr(host, '.') == NULL || strchr(host, ':') != NULL)
		return false;
	struct in_addr v4;
	return inet_pton(AF_INET, host, &v4) != 1;
}

bool tunnel_loop_detected(const struct exposr_http_request *req, const char *node_id)
{
	if (node_id == NULL || node_id[0] == '\0')
		return false;
	for (size_t i = 0; i < req->header_count; i++)
		if (strcasecmp(req->headers[i].name, "exposr-via") == 0 &&
		    list_has(req->headers[i].value, node_id))
			return true;
	return false;
}

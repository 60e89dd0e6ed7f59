/* Optional whitespace in HTTP header values (see http_ows.h). */
#include "http_ows.h"

bool http_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

size_t http_trim_ows(const char **start, size_t len)
{
	const char *p = *start;
	while (len > 0 && http_is_ows(p[len - 1]))
		len--;
	while (len > 0 && http_is_ows(*p)) {
		p++;
		len--;
	}
	*start = p;
	return len;
}

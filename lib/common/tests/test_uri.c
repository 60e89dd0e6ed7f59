/* Target URLs: Joi's string().uri() (RFC 3986, absolute). */
#include <criterion/criterion.h>

#include "common/validate.h"

Test(uri, accepted)
{
	cr_assert(uri_valid("http://example.com/"));
	cr_assert(uri_valid("https://user:pw@example.com:8443/a/b?c=d#e"));
	cr_assert(uri_valid("tcp://127.0.0.1:22"));
	cr_assert(uri_valid("tcps://host:443"));
	cr_assert(uri_valid("ws://[::1]:8080/x"));
	cr_assert(uri_valid("mailto:someone@example.com"));
	cr_assert(uri_valid("http://a/%20b"));
	cr_assert(uri_valid("urn:isbn:0451450523"));
}

Test(uri, refused)
{
	cr_assert_not(uri_valid(""));
	cr_assert_not(uri_valid("example.com"));
	cr_assert_not(uri_valid("/relative/path"));
	cr_assert_not(uri_valid("1http://x"));
	cr_assert_not(uri_valid("http://exa mple.com/"));
	cr_assert_not(uri_valid("http://host:port/"));
	cr_assert_not(uri_valid("http://a/%zz"));
	cr_assert_not(uri_valid("http://[zz]/"));
	cr_assert_not(uri_valid("http://a/b c"));
	cr_assert_not(uri_valid("http://a/\"q\""));
}

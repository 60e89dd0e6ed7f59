/* Domain names (Joi's string().domain()) and tunnel ids (docs/api.md §1.1). */
#include <criterion/criterion.h>
#include <string.h>

#include "common/validate.h"

Test(domain, accepted)
{
	cr_assert(domain_name_valid("example.com"));
	cr_assert(domain_name_valid("a.b.c.example.net"));
	cr_assert(domain_name_valid("x-1.test"));
	cr_assert(domain_name_valid("123.example.org"));
	cr_assert(domain_name_valid("my-app.localhost"));
}

Test(domain, refused)
{
	cr_assert_not(domain_name_valid(""));
	cr_assert_not(domain_name_valid("localhost"), "one label");
	cr_assert_not(domain_name_valid("example.com."), "trailing dot");
	cr_assert_not(domain_name_valid(".example.com"));
	cr_assert_not(domain_name_valid("a..com"));
	cr_assert_not(domain_name_valid("-a.com"));
	cr_assert_not(domain_name_valid("a-.com"));
	cr_assert_not(domain_name_valid("example.1com"), "top level starts with a digit");
	cr_assert_not(domain_name_valid("1.2.3.4"));
	cr_assert_not(domain_name_valid("a_b.com"));
	cr_assert_not(domain_name_valid("a b.com"));
	cr_assert_not(domain_name_valid("user@a.com"));
	cr_assert_not(domain_name_valid("http://a.com"));
	cr_assert_not(domain_name_valid("ex\xc3\xa4mple.com"));
	char long_label[80];
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".com");
	cr_assert_not(domain_name_valid(long_label));
	long_label[1] = '.';
	cr_assert(domain_name_valid(long_label));
	char too_long[300];
	memset(too_long, 'a', sizeof(too_long));
	for (size_t i = 10; i < 290; i += 10)
		too_long[i] = '.';
	strcpy(too_long + 290, ".com");
	cr_assert_not(domain_name_valid(too_long));
}

Test(tunnel_id, regex_of_protocol_1_1)
{
	cr_assert(tunnel_id_valid("abcd"));
	cr_assert(tunnel_id_valid("1abc"));
	cr_assert(tunnel_id_valid("a-b-c1"));
	cr_assert(tunnel_id_valid("a--b-c"));
	cr_assert_not(tunnel_id_valid("abc"));
	cr_assert_not(tunnel_id_valid("a-bc"), "5 characters with a hyphen");
	cr_assert_not(tunnel_id_valid("MyTunnel"));
	cr_assert_not(tunnel_id_valid("-abcde"));
	cr_assert_not(tunnel_id_valid("abcde-"));
	cr_assert_not(tunnel_id_valid("ab_cde"));
	char id[80];
	memset(id, 'a', 65);
	id[65] = '\0';
	id[30] = '-';
	cr_assert(tunnel_id_valid(id), "65 characters with a hyphen");
	memset(id, 'a', 66);
	id[66] = '\0';
	id[30] = '-';
	cr_assert_not(tunnel_id_valid(id));
	memset(id, 'a', 64);
	id[64] = '\0';
	cr_assert(tunnel_id_valid(id), "64 without hyphen matches the first branch");
}

/* Joi 17's messages, as the clients display them. */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "common/joi.h"

Test(joi, labels)
{
	struct joi_label label;
	joi_label_init(&label);
	cr_assert_str_eq(joi_label_text(&label), "value");
	size_t a = joi_label_push_key(&label, "ingress");
	size_t b = joi_label_push_key(&label, "http");
	joi_label_push_key(&label, "alt_names");
	joi_label_push_index(&label, 3);
	cr_assert_str_eq(joi_label_text(&label), "ingress.http.alt_names[3]");
	joi_label_pop(&label, b);
	cr_assert_str_eq(joi_label_text(&label), "ingress");
	joi_label_pop(&label, a);
	cr_assert_str_eq(joi_label_text(&label), "value");
}

Test(joi, first_failure_wins)
{
	struct joi_error err = {0};
	struct joi_label label;
	joi_label_init(&label);
	joi_label_push_key(&label, "target");
	cr_assert_not(joi_fail(&err, &label, "must be of type object"));
	cr_assert_not(joi_fail(&err, &label, "is not allowed"));
	cr_assert_str_eq(err.message, "\"target\" must be of type object");
}

Test(joi, pattern_message)
{
	struct joi_error err = {0};
	joi_fail_pattern(&err, "tunnel_id", "AB", JOI_TUNNEL_ID_REGEX);
	cr_assert_str_eq(err.message,
	                 "\"tunnel_id\" with value \"AB\" fails to match the required pattern: "
	                 "/^(?:[a-z0-9][a-z0-9\\-]{4,63}[a-z0-9]|[a-z0-9]{4,63})$/");
}

Test(joi, types)
{
	cJSON *doc = cJSON_Parse("{\"b\":true,\"s\":\"FALSE\",\"n\":1,\"e\":\"\",\"z\":null,"
	                         "\"o\":[],\"x\":1,\"x\":{}}");
	cr_assert_not_null(doc);
	struct joi_label label;
	joi_label_init(&label);
	int b;
	const char *s;
	struct joi_error err = {0};
	cr_assert(joi_boolean(joi_member(doc, "b"), &label, &b, &err));
	cr_assert_eq(b, 1);
	cr_assert(joi_boolean(joi_member(doc, "s"), &label, &b, &err));
	cr_assert_eq(b, 0);
	cr_assert(joi_boolean(NULL, &label, &b, &err));
	cr_assert_eq(b, -1);
	cr_assert(joi_string(joi_member(doc, "z"), true, &label, &s, &err));
	cr_assert_null(s);
	cr_assert(joi_object(joi_member(doc, "x"), &label, &err), "the last duplicate counts");
	cr_assert_not(err.failed);

	joi_label_push_key(&label, "n");
	cr_assert_not(joi_boolean(joi_member(doc, "n"), &label, &b, &err));
	cr_assert_str_eq(err.message, "\"n\" must be a boolean");
	struct joi_error e2 = {0};
	cr_assert_not(joi_string(joi_member(doc, "n"), true, &label, &s, &e2));
	cr_assert_str_eq(e2.message, "\"n\" must be a string");
	struct joi_error e3 = {0};
	cr_assert_not(joi_string(joi_member(doc, "e"), true, &label, &s, &e3));
	cr_assert_str_eq(e3.message, "\"n\" is not allowed to be empty");
	struct joi_error e4 = {0};
	cr_assert_not(joi_object(joi_member(doc, "o"), &label, &e4));
	cr_assert_str_eq(e4.message, "\"n\" must be of type object");
	struct joi_error e5 = {0};
	struct joi_label root;
	joi_label_init(&root);
	static const char *const allowed[] = {"b", "s", NULL};
	cr_assert_not(joi_known_keys(doc, allowed, &root, &e5));
	cr_assert_str_eq(e5.message, "\"n\" is not allowed");
	cr_assert_str_eq(joi_label_text(&root), "value", "the label is restored");
	cJSON_Delete(doc);
}

Test(joi, query_values)
{
	struct joi_label label;
	joi_label_init(&label);
	joi_label_push_key(&label, "count");
	long n;
	bool b;
	const char *ok[] = {"25"}, *nan[] = {"abc"}, *frac[] = {"1.5"}, *zero[] = {"0"},
	           *big[] = {"101"}, *two[] = {"1", "2"}, *spaced[] = {" 7 "}, *yes[] = {"True"},
	           *one[] = {"1"};
	struct joi_error err = {0};
	cr_assert(joi_query_integer(ok, 1, 1, 100, &label, &n, &err));
	cr_assert_eq(n, 25);
	cr_assert(joi_query_integer(spaced, 1, 1, 100, &label, &n, &err));
	cr_assert_eq(n, 7);
	struct joi_error e1 = {0}, e2 = {0}, e3 = {0}, e4 = {0}, e5 = {0}, e6 = {0};
	joi_query_integer(nan, 1, 1, 100, &label, &n, &e1);
	cr_assert_str_eq(e1.message, "\"count\" must be a number");
	joi_query_integer(frac, 1, 1, 100, &label, &n, &e2);
	cr_assert_str_eq(e2.message, "\"count\" must be an integer");
	joi_query_integer(zero, 1, 1, 100, &label, &n, &e3);
	cr_assert_str_eq(e3.message, "\"count\" must be greater than or equal to 1");
	joi_query_integer(big, 1, 1, 100, &label, &n, &e4);
	cr_assert_str_eq(e4.message, "\"count\" must be less than or equal to 100");
	joi_query_integer(two, 2, 1, 100, &label, &n, &e5);
	cr_assert_str_eq(e5.message, "\"count\" must be a number");
	cr_assert(joi_query_boolean(yes, 1, &label, &b, &err));
	cr_assert(b);
	joi_query_boolean(one, 1, &label, &b, &e6);
	cr_assert_str_eq(e6.message, "\"count\" must be a boolean");
}

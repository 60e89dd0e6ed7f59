/* The core's metric table: creation by name, types, values and the text format. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "metrics_table.h"

static void teardown(void)
{
	metrics_free();
}

TestSuite(metrics, .fini = teardown);

/* The text of every metric, as /metrics serves it; the caller frees it. */
static char *text_of_all(void)
{
	struct evbuffer *out = evbuffer_new();
	cr_assert_not_null(out);
	cr_assert_eq(metrics_api.write_text(out), EXPOSR_OK);
	size_t len = evbuffer_get_length(out);
	char *text = malloc(len + 1);
	cr_assert_not_null(text);
	cr_assert_eq(evbuffer_remove(out, text, len), (int)len);
	text[len] = '\0';
	evbuffer_free(out);
	return text;
}

Test(metrics, the_same_name_is_the_same_metric)
{
	struct exposr_metric *a = metrics_api.get("open_things", EXPOSR_METRIC_GAUGE, "Things");
	cr_assert_not_null(a);
	cr_assert_eq(metrics_api.get("open_things", EXPOSR_METRIC_GAUGE, "other help"), a);
	cr_assert_null(metrics_api.get("open_things", EXPOSR_METRIC_COUNTER, "Things"),
	               "a name keeps its type");
	cr_assert_neq(metrics_api.get("open_things_2", EXPOSR_METRIC_GAUGE, "Things"), a);
}

Test(metrics, names_outside_the_format_are_refused)
{
	static const char *const bad[] = {"", "1st", "with-dash", "sp ace", "é", "a\nb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_null(metrics_api.get(bad[i], EXPOSR_METRIC_GAUGE, "x"), "%s", bad[i]);
	cr_expect_null(metrics_api.get(NULL, EXPOSR_METRIC_GAUGE, "x"));
	cr_expect_null(metrics_api.get("ok", (enum exposr_metric_type)7, "x"));
	cr_expect_not_null(metrics_api.get("_ok:Name_9", EXPOSR_METRIC_COUNTER, NULL));
}

Test(metrics, add_set_and_value)
{
	struct exposr_metric *g = metrics_api.get("g", EXPOSR_METRIC_GAUGE, "");
	cr_assert_eq(metrics_api.value(g), 0);
	metrics_api.add(g, 3);
	metrics_api.add(g, -1);
	cr_assert_eq(metrics_api.value(g), 2);
	metrics_api.set(g, -40);
	cr_assert_eq(metrics_api.value(g), -40);
	/* A module whose get() failed passes NULL: nothing happens. */
	metrics_api.add(NULL, 1);
	metrics_api.set(NULL, 1);
	cr_assert_eq(metrics_api.value(NULL), 0);
}

Test(metrics, text_format_in_creation_order_with_escaped_help)
{
	struct exposr_metric *c = metrics_api.get("requests_total", EXPOSR_METRIC_COUNTER,
	                                          "Requests\nserved \\ so far");
	struct exposr_metric *g = metrics_api.get("open", EXPOSR_METRIC_GAUGE, "Open now");
	metrics_api.add(c, 12);
	metrics_api.set(g, -2);
	char *text = text_of_all();
	cr_expect_str_eq(text, "# HELP requests_total Requests\\nserved \\\\ so far\n"
	                       "# TYPE requests_total counter\n"
	                       "requests_total 12\n"
	                       "# HELP open Open now\n"
	                       "# TYPE open gauge\n"
	                       "open -2\n");
	free(text);
}

Test(metrics, no_metrics_is_an_empty_text)
{
	char *text = text_of_all();
	cr_expect_str_eq(text, "");
	free(text);
}

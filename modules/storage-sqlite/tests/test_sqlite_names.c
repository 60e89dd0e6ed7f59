/* sqlite:// URLs and the table of each namespace (docs/storage.md §8.1, docs/configuration.md §9).
 */
#include <criterion/criterion.h>

#include "../sqlite_names.h"

static void path_is(const char *url, const char *expected)
{
	char *path;
	char error[256] = "";
	cr_assert_eq(sqlite_url_path(url, &path, error, sizeof(error)), 0, "%s: %s", url, error);
	cr_assert_str_eq(path, expected);
	free(path);
}

static void path_fails(const char *url, const char *reason)
{
	char *path;
	char error[256] = "";
	cr_assert_eq(sqlite_url_path(url, &path, error, sizeof(error)), -1, "%s parsed", url);
	cr_assert_null(path);
	cr_assert(strstr(error, reason) != NULL, "%s: '%s' lacks '%s'", url, error, reason);
}

Test(sqlite_names, url_paths)
{
	path_is("sqlite://exposr.sqlite", "exposr.sqlite");
	path_is("sqlite://data/exposr.db", "data/exposr.db");
	path_is("sqlite:///var/lib/exposrd/x.db", "/var/lib/exposrd/x.db");
	path_fails("sqlite://", "no database file");
	path_fails("sqlite:///", "no database file");
	path_fails("sqlite:exposr.db", "is not a sqlite:// URL");
	path_fails("redis://x", "is not a sqlite:// URL");
}

static void table_is(const char *ns, const char *expected)
{
	char *name = sqlite_table_name(ns);
	cr_assert_not_null(name, "%s", ns);
	cr_assert_str_eq(name, expected);
	free(name);
}

Test(sqlite_names, tables_as_exposrd_names_them)
{
	table_is("account", "account");
	table_is("tunnel", "tunnel");
	table_is("ingress-altnames", "ingress_altnames");
	table_is("1abc", "t_1abc");
	table_is("9-x-y", "t_9_x_y");
	table_is("Mixed-Case", "mixed_case");
	table_is("a1", "a1");
	cr_assert_null(sqlite_table_name(""));
}

Test(sqlite_names, identifiers_are_quoted)
{
	char *q = sqlite_quote_identifier("ingress_altnames");
	cr_assert_str_eq(q, "\"ingress_altnames\"");
	free(q);
	q = sqlite_quote_identifier("we\"ird");
	cr_assert_str_eq(q, "\"we\"\"ird\"");
	free(q);
}

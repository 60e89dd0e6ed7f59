/* The README's settings tables are those of the descriptors: each is rendered here from
 * the core's table and the built modules' tables and compared with the README's text
 * between its markers. On a difference the expected text is written to
 * readme-settings.md in the working directory, to paste in. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "core_settings.h"
#include "settings_table.h"

static void cell(FILE *out, const char *text)
{
	for (const char *p = text; p != NULL && *p != '\0'; p++) {
		if (*p == '<' || *p == '>')
			fputs(*p == '<' ? "&lt;" : "&gt;", out);
		else if (*p == '|')
			fputs("\\|", out);
		else
			fputc(*p, out);
	}
}

static void cell_default(FILE *out, const struct exposr_setting *s)
{
	if ((s->flags & EXPOSR_SETTING_REQUIRED) != 0) {
		fputs("required", out);
	} else if (s->def_help != NULL) {
		cell(out, s->def_help);
	} else if (s->def != NULL) {
		fputc('`', out);
		cell(out, s->def);
		fputc('`', out);
	}
}

static void cell_flags(FILE *out, const struct exposr_setting *s)
{
	if (s->flag == NULL)
		return;
	if (s->short_flag != 0)
		fprintf(out, "`-%c`, ", s->short_flag);
	fprintf(out, "`--%s`", s->flag);
	for (size_t i = 0; s->aliases != NULL && s->aliases[i] != NULL; i++)
		fprintf(out, ", `--%s`", s->aliases[i]);
	if ((s->flags & EXPOSR_SETTING_HIDDEN) != 0)
		fputs(" (hidden)", out);
}

static void row(FILE *out, const char *first, const struct exposr_setting *s)
{
	if (first != NULL)
		fprintf(out, "| %s ", first);
	fprintf(out, "| `%s` | ", s->key);
	cell_default(out, s);
	fputs(" | ", out);
	cell_flags(out, s);
	fputs(" | ", out);
	cell(out, s->help);
	fputs(" |\n", out);
}

static void render_core(FILE *out)
{
	fputs("| YAML | default | flag | meaning |\n|---|---|---|---|\n", out);
	for (const struct exposr_setting *s = core_settings_table; s->key != NULL; s++)
		row(out, NULL, s);
}

static void render_modules(FILE *out, const struct catalog *c)
{
	fputs("| module | setting | default | flag | meaning |\n|---|---|---|---|---|\n", out);
	for (size_t i = 0; i < c->count; i++) {
		const char *name = c->entries[i].name;
		if (strncmp(name, "fixture", 7) == 0)
			continue;
		char first[96];
		snprintf(first, sizeof(first), "`%s`", name);
		const struct exposr_setting *s = catalog_settings(c->entries[i].desc);
		if (s == NULL || s->key == NULL)
			fprintf(out, "| %s | | | | no settings |\n", first);
		for (; s != NULL && s->key != NULL; s++, first[0] = '\0')
			row(out, first, s);
	}
}

/* The README's text between the line holding `begin` and the next "<!-- end -->". */
static char *readme_block(const char *begin)
{
	FILE *f = fopen(SOURCE_DIR "/README.md", "r");
	cr_assert_not_null(f);
	char *text = NULL, *block = NULL;
	size_t len = 0;
	cr_assert_gt(getdelim(&text, &len, '\0', f), 0);
	fclose(f);
	const char *from = strstr(text, begin);
	cr_assert_not_null(from, "README.md has no marker '%s'", begin);
	from = strchr(from, '\n') + 1;
	const char *to = strstr(from, "<!-- end -->");
	cr_assert_not_null(to);
	block = strndup(from, (size_t)(to - from));
	free(text);
	return block;
}

static void expect_block(const char *begin, const char *rendered)
{
	char *block = readme_block(begin);
	if (strcmp(block, rendered) != 0) {
		FILE *f = fopen("readme-settings.md", "w");
		if (f != NULL) {
			fputs(rendered, f);
			fclose(f);
		}
	}
	cr_assert_str_eq(block, rendered,
	                 "README.md differs from the settings tables; the expected text is in "
	                 "readme-settings.md");
	free(block);
}

Test(readme, core_settings_table_matches)
{
	char *text;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	render_core(out);
	fclose(out);
	expect_block("<!-- core settings: generated", text);
	free(text);
}

Test(readme, module_settings_tables_match)
{
	struct catalog c;
	cr_assert_eq(catalog_scan(FIXTURE_DIR, &c), 0);
	char *text;
	size_t len;
	FILE *out = open_memstream(&text, &len);
	render_modules(out, &c);
	fclose(out);
	expect_block("<!-- module settings: generated", text);
	free(text);
	catalog_free(&c);
}

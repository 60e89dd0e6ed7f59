/* The README's settings tables are those of the descriptors: each is rendered here from
 * the core's table and the built modules' tables and compared with the README's text
 * between its markers. On a difference the expected text is written to
 * readme-settings.md in the working directory, to paste in. Its "Environment variables"
 * table is checked against the options exposrd builds from the same tables. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "core_settings.h"
#include "options.h"
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

/* The README's text from the line after the one holding `begin` to `end`. */
static char *readme_block_until(const char *begin, const char *end)
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
	const char *to = strstr(from, end);
	cr_assert_not_null(to);
	block = strndup(from, (size_t)(to - from));
	free(text);
	return block;
}

/* ... to the next "<!-- end -->". */
static char *readme_block(const char *begin)
{
	return readme_block_until(begin, "<!-- end -->");
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

#define MAX_OPTIONS 128

struct option_name {
	char name[64];
	char short_name; /* 0 when it has none */
};

/* The options of `exposrd --help --show-hidden` with every module built, the 0.12 options
 * of modules not built included: "  -c, --config FILE" or "      --name VALUE". */
static size_t exposrd_options(struct option_name *out)
{
	char *argv[] = {"exposrd", "--module-dir", FIXTURE_DIR, NULL};
	struct options o;
	cr_assert_eq(options_parse(3, argv, &o), 0);
	char *text;
	size_t len, n = 0;
	FILE *help = open_memstream(&text, &len);
	options_print_help(&o, help, true);
	fclose(help);
	options_free(&o);
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		char short_name = 0;
		if (strncmp(line, "  -", 3) == 0 && line[3] != '-' &&
		    strncmp(line + 4, ", --", 4) == 0)
			short_name = line[3], line += 6;
		else if (strncmp(line, "      --", 8) == 0)
			line += 6;
		else
			continue;
		cr_assert_lt(n, MAX_OPTIONS);
		out[n].short_name = short_name;
		snprintf(out[n].name, sizeof(out[n].name), "%.*s", (int)strcspn(line + 2, " "),
		         line + 2);
		n++;
	}
	free(text);
	return n;
}

/* The `quoted` words of one table cell that start with `prefix`, in order. */
static size_t cell_words(const char *cell, size_t cell_len, const char *prefix, char words[][64],
                         size_t max)
{
	size_t n = 0;
	for (const char *p = memchr(cell, '`', cell_len); p != NULL && p < cell + cell_len;) {
		const char *end = memchr(p + 1, '`', (size_t)(cell + cell_len - p - 1));
		if (end == NULL)
			break;
		size_t wlen = (size_t)(end - p - 1);
		if (strncmp(p + 1, prefix, strlen(prefix)) == 0 && wlen < 64 && n < max)
			snprintf(words[n++], 64, "%.*s", (int)wlen, p + 1);
		p = memchr(end + 1, '`', (size_t)(cell + cell_len - end - 1));
	}
	return n;
}

static const struct option_name *find_option(const struct option_name *opts, size_t n,
                                             const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

/* Every option a user can pass has a row, under its EXPOSR_ variable and with its short
 * form, and every row names real options. --help, --version and --show-hidden have no
 * variable (options_apply reads none for them) and no row. */
Test(readme, environment_variables_table_lists_every_option)
{
	struct option_name opts[MAX_OPTIONS];
	size_t count = exposrd_options(opts);
	cr_assert_gt(count, 40);
	bool listed[MAX_OPTIONS] = {false};
	char *section = readme_block_until("### Environment variables", "\n## ");
	size_t rows = 0;
	for (char *line = strtok(section, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "| `-", 4) != 0)
			continue;
		rows++;
		const char *cell2 = strstr(line + 1, " | ");
		cr_assert_not_null(cell2);
		cell2 += 3;
		const char *cell2_end = strstr(cell2, " | ");
		cr_assert_not_null(cell2_end);
		char flags[8][64], names[8][64], envs[8][64];
		size_t nflags = cell_words(line, (size_t)(cell2 - line), "--", flags, 8);
		size_t nnames = cell_words(line, (size_t)(cell2 - line), "-", names, 8);
		size_t nenvs = cell_words(cell2, (size_t)(cell2_end - cell2), "EXPOSR_", envs, 8);
		cr_assert_eq(nflags, nenvs, "README row '%s': one variable per option", line);
		for (size_t i = 0; i < nflags; i++) {
			const struct option_name *o = find_option(opts, count, flags[i] + 2);
			cr_assert_not_null(o, "README lists %s, which exposrd does not accept",
			                   flags[i]);
			char env[96];
			settings_env_name(o->name, env, sizeof(env));
			cr_assert_str_eq(envs[i], env, "README: the variable of %s", flags[i]);
			char want_short[3] = {'-', o->short_name, '\0'};
			bool short_listed = false;
			for (size_t j = 0; j < nnames; j++)
				short_listed = short_listed || strcmp(names[j], want_short) == 0;
			cr_assert(o->short_name == 0 || short_listed, "README: %s is also -%c",
			          flags[i], o->short_name);
			listed[o - opts] = true;
		}
	}
	free(section);
	cr_assert_gt(rows, 0);
	for (size_t i = 0; i < count; i++) {
		bool no_variable = strcmp(opts[i].name, "help") == 0 ||
		                   strcmp(opts[i].name, "version") == 0 ||
		                   strcmp(opts[i].name, "show-hidden") == 0;
		cr_assert(listed[i] || no_variable,
		          "README's \"Environment variables\" has no row for --%s (EXPOSR_...)",
		          opts[i].name);
	}
}

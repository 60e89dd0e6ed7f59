/* The configuration tree: YAML loaded with libyaml, overridden by flags and the
 * environment, every node remembering where its value came from. */
#include "cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "log.h"
#include "settings_table.h"

struct exposr_cfg {
	enum exposr_cfg_type type;
	char *key;    /* key in the parent mapping, NULL in a sequence or at the root */
	char *scalar; /* value of a scalar */
	char *path;   /* dotted path from the root */
	char *origin; /* file name, or the flag/variable that set it */
	bool from_file;
	int line, column; /* 1-based; 0 when not from a file */
	struct exposr_cfg **items;
	size_t count, cap;
	const char **list; /* cache for get_string_list */
	size_t list_count;
};

static struct exposr_cfg *node_new(enum exposr_cfg_type type, const char *key,
                                   const struct exposr_cfg *parent, const char *origin)
{
	struct exposr_cfg *n = calloc(1, sizeof(*n));
	if (n == NULL)
		return NULL;
	n->type = type;
	n->origin = strdup(origin);
	if (key != NULL)
		n->key = strdup(key);
	const char *name = key != NULL ? key : "";
	if (parent == NULL || parent->path[0] == '\0')
		n->path = strdup(name);
	else if (asprintf(&n->path, "%s.%s", parent->path, key != NULL ? key : "[]") < 0)
		n->path = NULL;
	if (n->origin == NULL || n->path == NULL || (key != NULL && n->key == NULL)) {
		cfg_free(n);
		return NULL;
	}
	return n;
}

static int node_append(struct exposr_cfg *parent, struct exposr_cfg *child)
{
	if (parent->count == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 8;
		struct exposr_cfg **items = realloc(parent->items, cap * sizeof(*items));
		if (items == NULL)
			return EXPOSR_ERROR;
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->count++] = child;
	return EXPOSR_OK;
}

void cfg_free(struct exposr_cfg *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->count; i++)
		cfg_free(n->items[i]);
	free(n->items);
	free(n->list);
	free(n->key);
	free(n->scalar);
	free(n->path);
	free(n->origin);
	free(n);
}

static const struct exposr_cfg *cfg_child(const struct exposr_cfg *n, const char *key);

static void report(const struct exposr_cfg *n, const char *key, const char *fmt, va_list ap)
{
	/* A value is blamed where it was set: its own line, flag or variable, never the
	 * mapping that holds it. */
	const struct exposr_cfg *own = key != NULL ? cfg_child(n, key) : NULL;
	if (own != NULL) {
		n = own;
		key = NULL;
	}
	log_note_error();
	char reason[512];
	vsnprintf(reason, sizeof(reason), fmt, ap);
	const char *path = n->path[0] != '\0' ? n->path : NULL;
	char full[512];
	if (key != NULL) {
		snprintf(full, sizeof(full), "%s%s%s", path ? path : "", path ? "." : "", key);
		path = full;
	}
	if (n->from_file)
		fprintf(stderr, "%s:%d:%d: %s: %s\n", n->origin, n->line, n->column,
		        path ? path : "(top level)", reason);
	else
		fprintf(stderr, "%s: %s: %s\n", n->origin, path ? path : "(top level)", reason);
}

static void cfg_error(const struct exposr_cfg *n, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(n, key, fmt, ap);
	va_end(ap);
}

/* ---- YAML loading ---- */

/* One file being converted; `used` marks the nodes converted so far. */
struct loader {
	yaml_document_t doc;
	const char *file;
	bool *used;
};

static struct exposr_cfg *convert(struct loader *l, yaml_node_t *yn, const char *key,
                                  const struct exposr_cfg *parent, int depth);

static int convert_mapping(struct loader *l, yaml_node_t *yn, struct exposr_cfg *n, int depth)
{
	for (yaml_node_pair_t *p = yn->data.mapping.pairs.start; p < yn->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(&l->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(&l->doc, p->value);
		if (kn == NULL || vn == NULL)
			return EXPOSR_ERROR;
		if (kn->type != YAML_SCALAR_NODE) {
			fprintf(stderr, "%s:%zu:%zu: %s: keys must be plain strings\n", l->file,
			        kn->start_mark.line + 1, kn->start_mark.column + 1,
			        n->path[0] ? n->path : "(top level)");
			return EXPOSR_ERROR;
		}
		const char *k = (const char *)kn->data.scalar.value;
		if (cfg_api.child(n, k) != NULL) {
			fprintf(stderr, "%s:%zu:%zu: %s%s%s: duplicate key\n", l->file,
			        kn->start_mark.line + 1, kn->start_mark.column + 1, n->path,
			        n->path[0] ? "." : "", k);
			return EXPOSR_ERROR;
		}
		struct exposr_cfg *c = convert(l, vn, k, n, depth + 1);
		if (c == NULL)
			return EXPOSR_ERROR;
		if (node_append(n, c) != EXPOSR_OK) {
			cfg_free(c);
			return EXPOSR_ERROR;
		}
	}
	return EXPOSR_OK;
}

static struct exposr_cfg *convert(struct loader *l, yaml_node_t *yn, const char *key,
                                  const struct exposr_cfg *parent, int depth)
{
	if (depth > 32) {
		fprintf(stderr, "%s:%zu:%zu: nesting too deep\n", l->file, yn->start_mark.line + 1,
		        yn->start_mark.column + 1);
		return NULL;
	}
	/* libyaml shares an aliased node: converting it once per alias is how a few hundred
	 * bytes of nested aliases grow into gigabytes. A config has no use for them. */
	bool *used = &l->used[yn - l->doc.nodes.start];
	if (*used) {
		fprintf(stderr,
		        "%s:%zu:%zu: this node is used again through an alias: YAML aliases "
		        "are not supported\n",
		        l->file, yn->start_mark.line + 1, yn->start_mark.column + 1);
		return NULL;
	}
	*used = true;
	enum exposr_cfg_type type = yn->type == YAML_SCALAR_NODE     ? EXPOSR_CFG_SCALAR
	                            : yn->type == YAML_SEQUENCE_NODE ? EXPOSR_CFG_SEQUENCE
	                                                             : EXPOSR_CFG_MAPPING;
	struct exposr_cfg *n = node_new(type, key, parent, l->file);
	if (n == NULL)
		return NULL;
	n->from_file = true;
	n->line = (int)yn->start_mark.line + 1;
	n->column = (int)yn->start_mark.column + 1;
	int rc = EXPOSR_OK;
	if (yn->type == YAML_SCALAR_NODE) {
		n->scalar = strndup((const char *)yn->data.scalar.value, yn->data.scalar.length);
		rc = n->scalar != NULL ? EXPOSR_OK : EXPOSR_ERROR;
	} else if (yn->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = yn->data.sequence.items.start;
		     rc == EXPOSR_OK && it < yn->data.sequence.items.top; it++) {
			yaml_node_t *in = yaml_document_get_node(&l->doc, *it);
			struct exposr_cfg *c = in ? convert(l, in, NULL, n, depth + 1) : NULL;
			if (c == NULL || node_append(n, c) != EXPOSR_OK) {
				cfg_free(c);
				rc = EXPOSR_ERROR;
			}
		}
	} else {
		rc = convert_mapping(l, yn, n, depth);
	}
	if (rc != EXPOSR_OK) {
		cfg_free(n);
		return NULL;
	}
	return n;
}

struct exposr_cfg *cfg_load_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: cannot read config: %s\n", path, strerror(errno));
		return NULL;
	}
	yaml_parser_t parser;
	struct loader l = {.file = path};
	struct exposr_cfg *root = NULL;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		fprintf(stderr, "%s: out of memory\n", path);
		return NULL;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &l.doc)) {
		fprintf(stderr, "%s:%zu:%zu: %s%s%s\n", path, parser.problem_mark.line + 1,
		        parser.problem_mark.column + 1,
		        parser.problem ? parser.problem : "invalid YAML", parser.context ? " " : "",
		        parser.context ? parser.context : "");
		goto out_parser;
	}
	yaml_node_t *top = yaml_document_get_root_node(&l.doc);
	size_t node_count = (size_t)(l.doc.nodes.top - l.doc.nodes.start);
	if (top == NULL) {
		root = cfg_new_root(); /* an empty file is an empty configuration */
	} else if (top->type != YAML_MAPPING_NODE) {
		fprintf(stderr, "%s:%zu:%zu: (top level): must be a mapping\n", path,
		        top->start_mark.line + 1, top->start_mark.column + 1);
	} else if ((l.used = calloc(node_count, sizeof(*l.used))) == NULL) {
		fprintf(stderr, "%s: out of memory\n", path);
	} else {
		root = convert(&l, top, NULL, NULL, 0);
	}
	free(l.used);
	yaml_document_delete(&l.doc);
out_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return root;
}

struct exposr_cfg *cfg_new_root(void)
{
	return node_new(EXPOSR_CFG_MAPPING, NULL, NULL, "(defaults)");
}

static struct exposr_cfg *child_mut(struct exposr_cfg *n, const char *key)
{
	return (struct exposr_cfg *)cfg_api.child(n, key);
}

int cfg_set(struct exposr_cfg *root, const char *path, const char *value, const char *origin)
{
	char *copy = strdup(path);
	if (copy == NULL)
		return EXPOSR_ERROR;
	struct exposr_cfg *n = root;
	int rc = EXPOSR_ERROR;
	char *save = NULL;
	for (char *seg = strtok_r(copy, ".", &save); seg != NULL;
	     seg = strtok_r(NULL, ".", &save)) {
		bool last = save == NULL || *save == '\0';
		if (n->type != EXPOSR_CFG_MAPPING) {
			cfg_error(n, NULL, "must be a mapping to hold %s (set by %s)", seg, origin);
			goto out;
		}
		struct exposr_cfg *c = child_mut(n, seg);
		if (c == NULL) {
			c = node_new(last ? EXPOSR_CFG_SCALAR : EXPOSR_CFG_MAPPING, seg, n, origin);
			if (c == NULL || node_append(n, c) != EXPOSR_OK) {
				cfg_free(c);
				goto out;
			}
		}
		n = c;
	}
	/* The override replaces whatever the file had at that path. */
	for (size_t i = 0; i < n->count; i++)
		cfg_free(n->items[i]);
	n->count = 0;
	free(n->scalar);
	free(n->origin);
	n->type = EXPOSR_CFG_SCALAR;
	n->scalar = strdup(value);
	n->origin = strdup(origin);
	n->from_file = false;
	n->line = n->column = 0;
	rc = n->scalar != NULL && n->origin != NULL ? EXPOSR_OK : EXPOSR_ERROR;
out:
	free(copy);
	return rc;
}

bool cfg_from_file(const struct exposr_cfg *node)
{
	return node != NULL && node->from_file;
}

size_t cfg_count(const struct exposr_cfg *node)
{
	return node != NULL && node->type != EXPOSR_CFG_SCALAR ? node->count : 0;
}

const struct exposr_cfg *cfg_at(const struct exposr_cfg *node, size_t i, const char **key)
{
	if (node == NULL || i >= cfg_count(node))
		return NULL;
	if (key != NULL)
		*key = node->items[i]->key;
	return node->items[i];
}

/* ---- the API modules use ---- */

static const struct exposr_cfg *cfg_child(const struct exposr_cfg *n, const char *key)
{
	if (n == NULL || n->type != EXPOSR_CFG_MAPPING)
		return NULL;
	for (size_t i = 0; i < n->count; i++)
		if (strcmp(n->items[i]->key, key) == 0)
			return n->items[i];
	return NULL;
}

static enum exposr_cfg_type cfg_type(const struct exposr_cfg *n)
{
	return n != NULL ? n->type : EXPOSR_CFG_NONE;
}

static const char *cfg_path(const struct exposr_cfg *n)
{
	return n != NULL ? n->path : "";
}

/* The scalar under key, NULL if absent; reports a non-scalar. */
static int scalar_of(const struct exposr_cfg *n, const char *key, const struct exposr_cfg **out)
{
	*out = cfg_child(n, key);
	if (*out != NULL && (*out)->type != EXPOSR_CFG_SCALAR) {
		cfg_error(*out, NULL, "must be a single value");
		return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static int cfg_get_string(const struct exposr_cfg *n, const char *key, const char *def,
                          const char **out)
{
	const struct exposr_cfg *s;
	if (scalar_of(n, key, &s) != EXPOSR_OK)
		return EXPOSR_ERROR;
	*out = s != NULL ? s->scalar : def;
	return EXPOSR_OK;
}

static int cfg_get_int(const struct exposr_cfg *n, const char *key, long def, long min, long max,
                       long *out)
{
	const struct exposr_cfg *s;
	if (scalar_of(n, key, &s) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (s == NULL) {
		*out = def;
		return EXPOSR_OK;
	}
	char *end;
	errno = 0;
	long v = strtol(s->scalar, &end, 10);
	if (s->scalar[0] == '\0' || *end != '\0' || errno != 0) {
		cfg_error(s, NULL, "'%s' is not an integer", s->scalar);
		return EXPOSR_ERROR;
	}
	if (v < min || v > max) {
		cfg_error(s, NULL, "%ld is out of range (%ld to %ld)", v, min, max);
		return EXPOSR_ERROR;
	}
	*out = v;
	return EXPOSR_OK;
}

static int cfg_get_bool(const struct exposr_cfg *n, const char *key, bool def, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	const struct exposr_cfg *s;
	if (scalar_of(n, key, &s) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (s == NULL) {
		*out = def;
		return EXPOSR_OK;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s->scalar, yes[i]) == 0) {
			*out = true;
			return EXPOSR_OK;
		}
		if (strcasecmp(s->scalar, no[i]) == 0) {
			*out = false;
			return EXPOSR_OK;
		}
	}
	cfg_error(s, NULL, "'%s' is not a boolean (true or false)", s->scalar);
	return EXPOSR_ERROR;
}

/* Splits a scalar on commas into child scalars, so both forms read alike. */
static int split_scalar(struct exposr_cfg *s)
{
	char *text = s->scalar;
	s->scalar = NULL;
	s->type = EXPOSR_CFG_SEQUENCE;
	int rc = EXPOSR_OK;
	char *save = NULL;
	for (char *part = strtok_r(text, ",", &save); part != NULL && rc == EXPOSR_OK;
	     part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		size_t len = strlen(part);
		while (len > 0 && part[len - 1] == ' ')
			part[--len] = '\0';
		if (len == 0)
			continue;
		struct exposr_cfg *c = node_new(EXPOSR_CFG_SCALAR, NULL, s, s->origin);
		if (c == NULL || (c->scalar = strdup(part)) == NULL || node_append(s, c) != 0) {
			cfg_free(c);
			rc = EXPOSR_ERROR;
			break;
		}
		c->from_file = s->from_file;
		c->line = s->line;
		c->column = s->column;
	}
	free(text);
	return rc;
}

static int cfg_get_string_list(const struct exposr_cfg *n, const char *key, const char *const **out,
                               size_t *count)
{
	struct exposr_cfg *s = (struct exposr_cfg *)cfg_child(n, key);
	*out = NULL;
	*count = 0;
	if (s == NULL)
		return EXPOSR_OK;
	if (s->type == EXPOSR_CFG_MAPPING) {
		cfg_error(s, NULL, "must be a list");
		return EXPOSR_ERROR;
	}
	if (s->type == EXPOSR_CFG_SCALAR && split_scalar(s) != EXPOSR_OK)
		return EXPOSR_ERROR;
	if (s->list == NULL && s->count > 0) {
		s->list = calloc(s->count, sizeof(*s->list));
		if (s->list == NULL)
			return EXPOSR_ERROR;
		for (size_t i = 0; i < s->count; i++) {
			if (s->items[i]->type != EXPOSR_CFG_SCALAR) {
				cfg_error(s->items[i], NULL, "list items must be single values");
				free(s->list);
				s->list = NULL;
				return EXPOSR_ERROR;
			}
			s->list[i] = s->items[i]->scalar;
		}
	}
	*out = s->list;
	*count = s->count;
	return EXPOSR_OK;
}

static int cfg_check_keys(const struct exposr_cfg *n, const char *const allowed[])
{
	if (n == NULL)
		return EXPOSR_OK;
	if (n->type != EXPOSR_CFG_MAPPING) {
		cfg_error(n, NULL, "must be a mapping");
		return EXPOSR_ERROR;
	}
	for (size_t i = 0; i < n->count; i++) {
		size_t j = 0;
		while (allowed[j] != NULL && strcmp(allowed[j], n->items[i]->key) != 0)
			j++;
		if (allowed[j] == NULL) {
			cfg_error(n->items[i], NULL, "unknown key");
			return EXPOSR_ERROR;
		}
	}
	return EXPOSR_OK;
}

const struct exposr_config_api cfg_api = {
        .size = sizeof(struct exposr_config_api),
        .child = cfg_child,
        .type = cfg_type,
        .path = cfg_path,
        .get_string = cfg_get_string,
        .get_int = cfg_get_int,
        .get_bool = cfg_get_bool,
        .get_string_list = cfg_get_string_list,
        .check_keys = cfg_check_keys,
        .error = cfg_error,
        .read = settings_read_module,
};

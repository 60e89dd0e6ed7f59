/* The metric table: a list in creation order, which is also the order of the output. */
#include "metrics_table.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

struct exposr_metric {
	struct exposr_metric *next;
	enum exposr_metric_type type;
	int64_t value;
	char *help;
	char name[];
};

static struct exposr_metric *metrics_head;
static struct exposr_metric **metrics_tail = &metrics_head;

#define NAME_START "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:"

static bool valid_name(const char *name)
{
	if (name == NULL || name[0] == '\0' || strchr(NAME_START, name[0]) == NULL)
		return false;
	return strspn(name, NAME_START "0123456789") == strlen(name);
}

static struct exposr_metric *metric_get(const char *name, enum exposr_metric_type type,
                                        const char *help)
{
	if (!valid_name(name) || (type != EXPOSR_METRIC_GAUGE && type != EXPOSR_METRIC_COUNTER))
		return NULL;
	for (struct exposr_metric *m = metrics_head; m != NULL; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m->type == type ? m : NULL;
	size_t len = strlen(name);
	struct exposr_metric *m = calloc(1, sizeof(*m) + len + 1);
	if (m == NULL)
		return NULL;
	m->help = strdup(help != NULL ? help : "");
	if (m->help == NULL) {
		free(m);
		return NULL;
	}
	memcpy(m->name, name, len + 1);
	m->type = type;
	*metrics_tail = m;
	metrics_tail = &m->next;
	return m;
}

static void metric_add(struct exposr_metric *m, int64_t delta)
{
	if (m != NULL)
		m->value += delta;
}

static void metric_set(struct exposr_metric *m, int64_t value)
{
	if (m != NULL)
		m->value = value;
}

static int64_t metric_value(const struct exposr_metric *m)
{
	return m != NULL ? m->value : 0;
}

/* HELP text escapes backslash and newline (exposition format 0.0.4). */
static int add_help(struct evbuffer *out, const char *help)
{
	for (const char *p = help; *p != '\0'; p++) {
		int rc;
		if (*p == '\\')
			rc = evbuffer_add(out, "\\\\", 2);
		else if (*p == '\n')
			rc = evbuffer_add(out, "\\n", 2);
		else
			rc = evbuffer_add(out, p, 1);
		if (rc != 0)
			return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

static int metrics_write_text(struct evbuffer *out)
{
	for (const struct exposr_metric *m = metrics_head; m != NULL; m = m->next) {
		const char *type = m->type == EXPOSR_METRIC_COUNTER ? "counter" : "gauge";
		if (evbuffer_add_printf(out, "# HELP %s ", m->name) < 0 ||
		    add_help(out, m->help) != EXPOSR_OK ||
		    evbuffer_add_printf(out, "\n# TYPE %s %s\n%s %lld\n", m->name, type, m->name,
		                        (long long)m->value) < 0)
			return EXPOSR_ERROR;
	}
	return EXPOSR_OK;
}

void metrics_free(void)
{
	while (metrics_head != NULL) {
		struct exposr_metric *m = metrics_head;
		metrics_head = m->next;
		free(m->help);
		free(m);
	}
	metrics_tail = &metrics_head;
}

const struct exposr_metrics_api metrics_api = {
        .size = sizeof(struct exposr_metrics_api),
        .get = metric_get,
        .add = metric_add,
        .set = metric_set,
        .value = metric_value,
        .write_text = metrics_write_text,
};

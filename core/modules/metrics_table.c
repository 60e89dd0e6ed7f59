/* The metric table: a list in creation order, which is also the order of the output. */
#include "metrics_table.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>

struct exposr_metric {
	STAILQ_ENTRY(exposr_metric) link;
	enum exposr_metric_type type;
	int64_t value;
	char *help;
	char name[];
};

static STAILQ_HEAD(, exposr_metric) metrics = STAILQ_HEAD_INITIALIZER(metrics);

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
	struct exposr_metric *m;
	STAILQ_FOREACH(m, &metrics, link)
	if (strcmp(m->name, name) == 0)
		return m->type == type ? m : NULL;
	size_t len = strlen(name);
	m = calloc(1, sizeof(*m) + len + 1);
	if (m == NULL)
		return NULL;
	m->help = strdup(help != NULL ? help : "");
	if (m->help == NULL) {
		free(m);
		return NULL;
	}
	memcpy(m->name, name, len + 1);
	m->type = type;
	STAILQ_INSERT_TAIL(&metrics, m, link);
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
	const struct exposr_metric *m;
	STAILQ_FOREACH(m, &metrics, link)
	{
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
	while (!STAILQ_EMPTY(&metrics)) {
		struct exposr_metric *m = STAILQ_FIRST(&metrics);
		STAILQ_REMOVE_HEAD(&metrics, link);
		free(m->help);
		free(m);
	}
}

const struct exposr_metrics_api metrics_api = {
        .size = sizeof(struct exposr_metrics_api),
        .get = metric_get,
        .add = metric_add,
        .set = metric_set,
        .value = metric_value,
        .write_text = metrics_write_text,
};

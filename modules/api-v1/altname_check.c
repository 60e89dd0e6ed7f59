/* The alt-name CNAME check of docs/api.md §2.9: one CNAME lookup per name, in parallel;
 * a name passes when one of its targets is exactly the tunnel's ingress host. */
#include "altname_check.h"

#include <stdlib.h>
#include <string.h>

#include <exposr/common.h>

#include "cname.h"

struct lookup {
	struct altname_check *check;
	struct cname_query *query; /* NULL once answered */
	char *name;
	bool accepted;
};

struct altname_check {
	char *expected;
	struct lookup *lookups;
	size_t count;
	size_t pending;
	altname_check_cb cb;
	void *arg;
};

static void check_free(struct altname_check *check)
{
	for (size_t i = 0; i < check->count; i++) {
		if (check->lookups[i].query != NULL)
			cname_cancel(check->lookups[i].query);
		free(check->lookups[i].name);
	}
	free(check->lookups);
	free(check->expected);
	free(check);
}

void altname_check_cancel(struct altname_check *check)
{
	if (check != NULL)
		check_free(check);
}

static void finish(struct altname_check *check)
{
	size_t len = 1;
	for (size_t i = 0; i < check->count; i++)
		if (!check->lookups[i].accepted)
			len += strlen(check->lookups[i].name) + 2;
	char *rejected = len > 1 ? malloc(len) : NULL;
	bool failed = len > 1 && rejected == NULL;
	if (rejected != NULL) {
		rejected[0] = '\0';
		for (size_t i = 0; i < check->count; i++) {
			if (check->lookups[i].accepted)
				continue;
			if (rejected[0] != '\0')
				strcat(rejected, ", ");
			strcat(rejected, check->lookups[i].name);
		}
	}
	altname_check_cb cb = check->cb;
	void *arg = check->arg;
	check_free(check);
	cb(arg, rejected, failed);
	free(rejected);
}

static void on_cname(void *arg, int status, const char *const *targets, size_t count)
{
	struct lookup *lookup = arg;
	struct altname_check *check = lookup->check;
	lookup->query = NULL;
	for (size_t i = 0; status == EXPOSR_OK && i < count && !lookup->accepted; i++)
		lookup->accepted = strcmp(targets[i], check->expected) == 0;
	if (--check->pending == 0)
		finish(check);
}

struct altname_check *altname_check_start(struct cname_resolver *resolver, const char *expected,
                                          const char *const *names, size_t count,
                                          altname_check_cb cb, void *arg)
{
	struct altname_check *check = calloc(1, sizeof(*check));
	if (check == NULL)
		return NULL;
	check->cb = cb;
	check->arg = arg;
	check->lookups = calloc(count > 0 ? count : 1, sizeof(*check->lookups));
	if (check->lookups == NULL || (check->expected = strdup(expected)) == NULL)
		goto fail;
	for (size_t i = 0; i < count; i++) {
		struct lookup *lookup = &check->lookups[i];
		lookup->check = check;
		check->count++;
		if ((lookup->name = strdup(names[i])) == NULL ||
		    (lookup->query = cname_resolve(resolver, names[i], on_cname, lookup)) == NULL)
			goto fail;
		check->pending++;
	}
	if (check->pending == 0)
		goto fail; /* nothing to wait for: the caller checks names only when there are some
		            */
	return check;
fail:
	check_free(check);
	return NULL;
}

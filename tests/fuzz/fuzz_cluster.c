/* Cluster messages through the real receive path (cluster_deliver): raw bytes as anyone
 * on the bus can publish them, and, when the first byte says so, the input re-signed
 * with the cluster's test key, as a node holding the key would send it. The cluster runs
 * on the in-memory storage module, set up once. */
#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "cluster.h"
#include "cluster_message.h"
#include "cluster_nodes.h"
#include "host_table.h"
#include "loader.h"
#include "log.h"
#include "registry_table.h"
#include "services.h"

#define KEY "secret-signing-key" /* the cluster's default, which it runs with here */

static struct event_base *base;
static struct exposr_cfg *root; /* the cluster reads its settings from it */
static int64_t clock_ms = 1700000000000;

static int64_t fuzz_now(void)
{
	return clock_ms;
}

static int publish(void *self, const char *text, size_t len)
{
	(void)self;
	(void)text;
	(void)len;
	return EXPOSR_OK;
}

static const struct exposr_eventbus_vtable bus = {
        .size = sizeof(struct exposr_eventbus_vtable),
        .publish = publish,
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_cluster: cannot set up: %s\n", what);
	exit(1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Dropped messages are logged (warnings): only a crash report should be seen. */
	log_configure(EXPOSR_LOG_OFF, LOG_FORMAT_TEXT);
	base = event_base_new();
	root = cfg_new_root();
	if (base == NULL || root == NULL)
		fail("out of memory");
	const struct exposr_host *host = host_table(base);
	if (services_configure(root) != EXPOSR_OK ||
	    loader_init_one(host, "storage-memory", MODULE_DIR "/storage-memory.so", NULL) !=
	            EXPOSR_OK ||
	    services_start() != EXPOSR_OK)
		fail("services with storage-memory from " MODULE_DIR);
	if (registry_add(NULL, EXPOSR_KIND_EVENTBUS, "fuzz", &bus, NULL) != EXPOSR_OK)
		fail("the bus");
	cluster_set_clock(fuzz_now);
	if (cluster_configure(root) != EXPOSR_OK || cluster_start() != EXPOSR_OK)
		fail("the cluster");
	return 0;
}

/* The input as a JSON object with its "s" replaced by the right signature; NULL when it
 * is not an object. */
static char *resigned(const char *text, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(text, len);
	char *out = NULL;
	if (cJSON_IsObject(root)) {
		cJSON_DeleteItemFromObjectCaseSensitive(root, "s");
		char *plain = cJSON_PrintUnformatted(root);
		if (plain != NULL) {
			char sig[65];
			cluster_message_sign(KEY, plain, strlen(plain), sig);
			cJSON_AddStringToObject(root, "s", sig);
			out = cJSON_PrintUnformatted(root);
		}
		free(plain);
	}
	cJSON_Delete(root);
	return out;
}

/* The first byte says whether the messages are re-signed; the rest is one message per
 * line, a second apart, from nodes that are forgotten again at the end of the input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool resign = data[0] & 1;
	const char *text = (const char *)data + 1;
	const char *end = text + size - 1;
	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		size_t len = (size_t)((nl != NULL ? nl : end) - text);
		clock_ms += 1000;
		if (resign) {
			char *signed_text = resigned(text, len);
			if (signed_text != NULL)
				cluster_deliver(signed_text, strlen(signed_text));
			free(signed_text);
		} else {
			cluster_deliver(text, len);
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		text += len + 1;
	}
	clock_ms += 24 * 3600 * 1000;
	cluster_nodes_sweep(clock_ms);
	return 0;
}

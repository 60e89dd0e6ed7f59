/* Signed cluster messages of docs/cluster.md §8.3: exposrd 0.12's envelope, its HMAC-SHA256
 * signature over JavaScript's JSON serialisation, and the per-node replay window. */
#ifndef EXPOSR_CORE_CLUSTER_MESSAGE_H
#define EXPOSR_CORE_CLUSTER_MESSAGE_H

#include <exposr/common.h>

struct cJSON;

struct cluster_sender {
	const char *id;   /* node id, 40 hex characters */
	const char *host; /* "<pid>@<hostname>" */
	const char *ip;
};

/* The wire text of a message: {"event","message","node":{id,host,ip},"ts","seq","s"}.
 * `message` is copied. Returns a malloc'ed string, or NULL on failure. A NULL `key`
 * leaves `s` out: for a message that never leaves this process. */
char *cluster_message_encode(const char *key, const struct cluster_sender *from, const char *event,
                             const struct cJSON *message, int64_t ts, int64_t seq);

/* The largest integer a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER): the
 * bound of every number a message carries. */
#define CLUSTER_MAX_INT 9007199254740991LL

/* Reads a JSON number that is a whole number in [min, max] (within ±CLUSTER_MAX_INT);
 * false for anything else, checked before it is converted. */
bool cluster_json_int(const struct cJSON *n, int64_t min, int64_t max, int64_t *out);

/* Lower-case hex HMAC-SHA256 of `len` bytes with `key` into out (65 bytes). */
void cluster_message_sign(const char *key, const char *text, size_t len, char out[65]);

/* A received message that passed the signature check; owns `root`. */
struct cluster_message {
	struct cJSON *root;
	const char *event;
	const struct cJSON *message;
	const char *node_id, *node_host, *node_ip;
	int64_t ts;
	int64_t seq;
};

/* Parses and verifies `text`: the signature first, then the fields (ts and seq whole
 * numbers in [0, CLUSTER_MAX_INT]). EXPOSR_ERROR with a reason in `why` (bad JSON, a bad
 * signature, a missing or out-of-range field). A NULL `key` neither needs nor checks `s`: only for
 * what cluster_message_encode wrote without a key in this same process. */
int cluster_message_decode(const char *key, const char *text, size_t len,
                           struct cluster_message *out, const char **why);
void cluster_message_free(struct cluster_message *m);

/* exposrd's replay window: the highest sequence seen and a 16-bit bitmap of the
 * ones just below it. */
struct replay_window {
	int64_t hi;
	uint16_t seen;
};

/* true if `seq` is new (and records it); false for a replay or one too old. */
bool replay_window_accept(struct replay_window *w, int64_t seq);

#endif

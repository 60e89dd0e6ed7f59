/* Signed cluster messages of docs/cluster.md §8.3: exposrd 0.12's envelope, its HMAC-SHA256
 * signature over JavaScript's JSON serialisation, and the per-node replay window. */
#include "cluster_message.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cluster_message_sign(const char *key, const char *text, size_t len, char out[65])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	if (HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)text, len, mac,
	         &mac_len) == NULL)
		mac_len = 0;
	static const char hex[] = "0123456789abcdef";
	for (unsigned i = 0; i < mac_len && i < 32; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[mac_len == 32 ? 64 : 0] = '\0';
}

/* cJSON prints numbers that hold an integer exactly as JavaScript does (no exponent
 * below 1e15, which covers epoch milliseconds and sequence numbers), escapes the
 * same characters as JSON.stringify and keeps key order: its compact output is the
 * text exposrd signs. */
static char *print_unsigned(const cJSON *root)
{
	return cJSON_PrintUnformatted(root);
}

char *cluster_message_encode(const char *key, const struct cluster_sender *from, const char *event,
                             const cJSON *message, int64_t ts, int64_t seq)
{
	char *text = NULL, *wire = NULL;
	cJSON *root = cJSON_CreateObject();
	cJSON *node = cJSON_CreateObject();
	cJSON *msg = cJSON_Duplicate(message, true);
	if (root == NULL || node == NULL || msg == NULL)
		goto out;
	cJSON_AddStringToObject(root, "event", event);
	cJSON_AddItemToObject(root, "message", msg);
	msg = NULL;
	cJSON_AddStringToObject(node, "id", from->id);
	cJSON_AddStringToObject(node, "host", from->host);
	cJSON_AddStringToObject(node, "ip", from->ip);
	cJSON_AddItemToObject(root, "node", node);
	node = NULL;
	cJSON_AddNumberToObject(root, "ts", (double)ts);
	cJSON_AddNumberToObject(root, "seq", (double)seq);
	text = print_unsigned(root);
	if (text == NULL || key == NULL) {
		wire = text;
		text = NULL;
		goto out;
	}
	char sig[65];
	size_t len = strlen(text);
	cluster_message_sign(key, text, len, sig);
	/* The signature goes last: `…,"s":"<hex>"}`. */
	wire = malloc(len + 80);
	if (wire != NULL) {
		memcpy(wire, text, len - 1);
		snprintf(wire + len - 1, 81, ",\"s\":\"%s\"}", sig);
	}
out:
	free(text);
	cJSON_Delete(msg);
	cJSON_Delete(node);
	cJSON_Delete(root);
	return wire;
}

bool cluster_json_int(const cJSON *n, int64_t min, int64_t max, int64_t *out)
{
	if (!cJSON_IsNumber(n))
		return false;
	double v = n->valuedouble;
	/* A double outside int64_t's range (1e300, NaN) must not reach the conversion. */
	if (!(v >= (double)min && v <= (double)max))
		return false;
	int64_t i = (int64_t)v;
	if ((double)i != v)
		return false;
	*out = i;
	return true;
}

static bool integer_field(const cJSON *root, const char *name, int64_t *out)
{
	return cluster_json_int(cJSON_GetObjectItemCaseSensitive(root, name), 0, CLUSTER_MAX_INT,
	                        out);
}

/* The receiver re-serialises what it got without `s`, as exposrd does. */
static bool signature_valid(const char *key, const cJSON *root, const cJSON *s)
{
	if (strlen(s->valuestring) != 64)
		return false;
	char *unsigned_text = print_unsigned(root);
	if (unsigned_text == NULL)
		return false;
	char expected[65];
	cluster_message_sign(key, unsigned_text, strlen(unsigned_text), expected);
	free(unsigned_text);
	return CRYPTO_memcmp(expected, s->valuestring, 64) == 0;
}

int cluster_message_decode(const char *key, const char *text, size_t len,
                           struct cluster_message *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	out->root = cJSON_ParseWithLength(text, len);
	if (!cJSON_IsObject(out->root)) {
		*why = "not a JSON object";
		goto fail;
	}
	/* Nothing of a message is read before its signature holds. */
	cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(out->root, "s");
	bool has_s = cJSON_IsString(s);
	bool signed_ok = key == NULL || (has_s && signature_valid(key, out->root, s));
	cJSON_Delete(s);
	if (!signed_ok) {
		*why = has_s ? "invalid message signature" : "missing signature";
		goto fail;
	}
	const cJSON *node = cJSON_GetObjectItemCaseSensitive(out->root, "node");
	const cJSON *event = cJSON_GetObjectItemCaseSensitive(out->root, "event");
	out->message = cJSON_GetObjectItemCaseSensitive(out->root, "message");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(node, "id");
	if (!cJSON_IsString(event) || out->message == NULL || !cJSON_IsObject(node) ||
	    !cJSON_IsString(id) || cJSON_GetObjectItemCaseSensitive(out->root, "ts") == NULL ||
	    cJSON_GetObjectItemCaseSensitive(out->root, "seq") == NULL) {
		*why = "missing field";
		goto fail;
	}
	if (!integer_field(out->root, "ts", &out->ts) ||
	    !integer_field(out->root, "seq", &out->seq)) {
		*why = "ts or seq out of range";
		goto fail;
	}
	out->event = event->valuestring;
	out->node_id = id->valuestring;
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(node, "host");
	const cJSON *ip = cJSON_GetObjectItemCaseSensitive(node, "ip");
	out->node_host = cJSON_IsString(host) ? host->valuestring : "";
	out->node_ip = cJSON_IsString(ip) ? ip->valuestring : "";
	return EXPOSR_OK;
fail:
	cluster_message_free(out);
	return EXPOSR_ERROR;
}

void cluster_message_free(struct cluster_message *m)
{
	cJSON_Delete(m->root);
	memset(m, 0, sizeof(*m));
}

bool replay_window_accept(struct replay_window *w, int64_t seq)
{
	/* exposrd lets seq == hi - 16 through without recording it (bit 16 does not
	 * exist), so it could be replayed; it is refused here. */
	if (seq < 0 || seq <= w->hi - 16)
		return false;
	if (seq > w->hi) {
		int64_t shift = seq - w->hi;
		/* exposrd shifts modulo 32 in JavaScript; a clear is what it means. */
		w->seen = shift >= 16 ? 0 : (uint16_t)(w->seen << shift);
		w->hi = seq;
	}
	int64_t r = w->hi - seq;
	if (w->seen & (1u << r))
		return false;
	w->seen |= (uint16_t)(1u << r);
	return true;
}

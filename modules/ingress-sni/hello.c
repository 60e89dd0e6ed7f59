/* The server name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3), read before
 * OpenSSL sees the bytes: finding the tunnel needs the storage (asynchronous), and a
 * connection re-routed to another node must get the ClientHello untouched. */
#include <ctype.h>
#include <string.h>

#include "sni.h"

#define RECORD_HEADER    5
#define HANDSHAKE        22
#define CLIENT_HELLO     1
#define EXT_SERVER_NAME  0
#define NAME_TYPE_HOST   0
#define MAX_HELLO_LENGTH (SNI_MAX_HELLO - RECORD_HEADER)

struct reader {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static unsigned take(struct reader *r, size_t n)
{
	unsigned v = 0;
	if (r->bad || r->left < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | r->p[i];
	r->p += n;
	r->left -= n;
	return v;
}

/* A sub-reader over the next `n` bytes, skipped in `r`. */
static struct reader sub(struct reader *r, size_t n)
{
	struct reader s = {.p = r->p, .left = n, .bad = r->bad || r->left < n};
	if (s.bad) {
		r->bad = true;
		return s;
	}
	r->p += n;
	r->left -= n;
	return s;
}

/* The handshake message, gathered from the records that carry it (a ClientHello may
 * span several). */
static enum sni_hello gather(const unsigned char *data, size_t len, unsigned char *msg,
                             size_t *msg_len)
{
	size_t have = 0, want = 0;
	while (len > 0) {
		if (len < RECORD_HEADER)
			return SNI_HELLO_MORE;
		size_t record = (size_t)data[3] << 8 | data[4];
		if (data[0] != HANDSHAKE || data[1] != 3 || record == 0)
			return SNI_HELLO_BAD;
		size_t avail = len - RECORD_HEADER < record ? len - RECORD_HEADER : record;
		if (have + avail > MAX_HELLO_LENGTH)
			return SNI_HELLO_BAD;
		memcpy(msg + have, data + RECORD_HEADER, avail);
		have += avail;
		if (want == 0 && have >= 4) {
			if (msg[0] != CLIENT_HELLO)
				return SNI_HELLO_BAD;
			want = 4 + ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]);
			if (want > MAX_HELLO_LENGTH)
				return SNI_HELLO_BAD;
		}
		if (want != 0 && have >= want) {
			*msg_len = want;
			return SNI_HELLO_NAME;
		}
		if (avail < record)
			return SNI_HELLO_MORE;
		data += RECORD_HEADER + record;
		len -= RECORD_HEADER + record;
	}
	return SNI_HELLO_MORE;
}

/* The host_name of a server_name extension, lower-cased. */
static enum sni_hello host_name(struct reader ext, char name[SNI_NAME_MAX])
{
	struct reader list = sub(&ext, take(&ext, 2));
	while (!list.bad && list.left > 0) {
		unsigned type = take(&list, 1);
		struct reader n = sub(&list, take(&list, 2));
		if (list.bad)
			break;
		if (type != NAME_TYPE_HOST)
			continue;
		if (n.left == 0 || n.left >= SNI_NAME_MAX)
			return SNI_HELLO_BAD;
		for (size_t i = 0; i < n.left; i++) {
			if (n.p[i] == 0 || n.p[i] > 0x7e)
				return SNI_HELLO_BAD;
			name[i] = (char)tolower(n.p[i]);
		}
		name[n.left] = '\0';
		return SNI_HELLO_NAME;
	}
	return list.bad ? SNI_HELLO_BAD : SNI_HELLO_NONE;
}

enum sni_hello sni_hello_parse(const unsigned char *data, size_t len, char name[SNI_NAME_MAX])
{
	unsigned char msg[MAX_HELLO_LENGTH];
	size_t msg_len = 0;
	enum sni_hello rc = gather(data, len, msg, &msg_len);
	if (rc != SNI_HELLO_NAME)
		return rc;
	struct reader r = {.p = msg + 4, .left = msg_len - 4};
	take(&r, 2);          /* legacy_version */
	sub(&r, 32);          /* random */
	sub(&r, take(&r, 1)); /* legacy_session_id */
	sub(&r, take(&r, 2)); /* cipher_suites */
	sub(&r, take(&r, 1)); /* legacy_compression_methods */
	if (!r.bad && r.left == 0)
		return SNI_HELLO_NONE; /* no extensions at all */
	struct reader exts = sub(&r, take(&r, 2));
	while (!exts.bad && exts.left > 0) {
		unsigned type = take(&exts, 2);
		struct reader ext = sub(&exts, take(&exts, 2));
		if (!exts.bad && type == EXT_SERVER_NAME)
			return host_name(ext, name);
	}
	return r.bad || exts.bad ? SNI_HELLO_BAD : SNI_HELLO_NONE;
}

/* The certificate and key: read, checked (a wildcard name, a matching key) and made
 * into the TLS context new handshakes use (docs/ingress.md §6). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sni.h"

static const unsigned char session_context[] = "exposrd-ingress-sni";

static bool stamp(const char *path, struct sni_file_stamp *out)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	out->mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	out->size = (long long)st.st_size;
	out->ino = (long long)st.st_ino;
	return true;
}

static bool same_stamp(const struct sni_file_stamp *a, const struct sni_file_stamp *b)
{
	return a->mtime_ns == b->mtime_ns && a->size == b->size && a->ino == b->ino;
}

void sni_cert_restamp(const struct sni_settings *set, struct sni_cert *c)
{
	struct sni_file_stamp cert, key;
	if (stamp(set->cert_file, &cert) && stamp(set->key_file, &key)) {
		c->cert_stamp = cert;
		c->key_stamp = key;
	}
}

bool sni_cert_changed(const struct sni_settings *set, const struct sni_cert *c)
{
	struct sni_file_stamp cert, key;
	/* A file being replaced may be missing for a moment: wait for it. */
	if (!stamp(set->cert_file, &cert) || !stamp(set->key_file, &key))
		return false;
	return !same_stamp(&cert, &c->cert_stamp) || !same_stamp(&key, &c->key_stamp);
}

/* OpenSSL's last reason, or `fallback`. */
static const char *ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;
	return r != NULL ? r : fallback;
}

/* `name` is "*.<domain>": copies the domain when it is the wanted one (any, if NULL). */
static bool take_wildcard(const char *name, size_t len, const char *wanted,
                          char domain[SNI_NAME_MAX])
{
	if (len < 3 || len >= SNI_NAME_MAX || strncmp(name, "*.", 2) != 0 ||
	    memchr(name, '\0', len) != NULL)
		return false;
	if (wanted != NULL && wanted[0] != '\0' &&
	    (strlen(wanted) != len - 2 || strncasecmp(name + 2, wanted, len - 2) != 0))
		return false;
	for (size_t i = 2; i < len; i++)
		domain[i - 2] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
	domain[len - 2] = '\0';
	return true;
}

/* The subject's CN first, then the subjectAltName DNS entries, as 0.12 looks. */
static bool find_wildcard(X509 *x, const char *wanted, char domain[SNI_NAME_MAX])
{
	char cn[SNI_NAME_MAX + 2];
	int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
	                                  (int)sizeof(cn));
	if (n > 0 && take_wildcard(cn, (size_t)n, wanted, domain))
		return true;
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	bool found = false;
	for (int i = 0; !found && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type != GEN_DNS)
			continue;
		const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
		found = take_wildcard((const char *)s, (size_t)ASN1_STRING_length(g->d.dNSName),
		                      wanted, domain);
	}
	GENERAL_NAMES_free(names);
	return found;
}

/* The first protocol the client offers that the targets speak (settings `alpn`). */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
	(void)ssl;
	const struct sni_settings *set = arg;
	for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
		unsigned len = in[i];
		if (i + 1 + len > inlen)
			break;
		for (size_t k = 0; k < set->alpn_count; k++) {
			if (strlen(set->alpn[k]) == len &&
			    memcmp(set->alpn[k], in + i + 1, len) == 0) {
				*out = in + i + 1;
				*outlen = (unsigned char)len;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	/* No protocol: the handshake goes on and the client uses its default. */
	return SSL_TLSEXT_ERR_NOACK;
}

static SSL_CTX *new_context(const struct sni_settings *set, char *why, size_t why_size)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		snprintf(why, why_size, "cannot create a TLS context: %s", ssl_reason("no memory"));
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
	                                 SSL_OP_NO_COMPRESSION);
	/* Idle connections give their read and write buffers back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_session_id_context(ctx, session_context, sizeof(session_context) - 1) !=
	            1) {
		snprintf(why, why_size, "cannot set up TLS: %s", ssl_reason("unknown error"));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_set_cipher_list(ctx, set->ciphers) != 1) {
		snprintf(why, why_size, "ciphers '%s': no cipher OpenSSL knows", set->ciphers);
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (set->alpn_count > 0)
		SSL_CTX_set_alpn_select_cb(ctx, select_alpn, (void *)set);
	return ctx;
}

static bool readable(const char *what, const char *path, char *why, size_t why_size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(why, why_size, "%s %s: %s", what, path, strerror(errno));
		return false;
	}
	fclose(f);
	return true;
}

int sni_cert_load(const struct sni_settings *set, struct sni_cert *out, char *why, size_t why_size)
{
	memset(out, 0, sizeof(*out));
	if (!readable("certificate", set->cert_file, why, why_size) ||
	    !readable("key", set->key_file, why, why_size) ||
	    !stamp(set->cert_file, &out->cert_stamp) || !stamp(set->key_file, &out->key_stamp))
		return EXPOSR_ERROR;
	ERR_clear_error();
	SSL_CTX *ctx = new_context(set, why, why_size);
	if (ctx == NULL)
		return EXPOSR_ERROR;
	X509 *x;
	if (SSL_CTX_use_certificate_chain_file(ctx, set->cert_file) != 1) {
		snprintf(why, why_size, "certificate %s: %s", set->cert_file,
		         ssl_reason("not a PEM certificate"));
	} else if (SSL_CTX_use_PrivateKey_file(ctx, set->key_file, SSL_FILETYPE_PEM) != 1 &&
	           ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
		snprintf(why, why_size, "key %s: %s", set->key_file, ssl_reason("not a PEM key"));
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(why, why_size, "key %s does not match certificate %s", set->key_file,
		         set->cert_file);
	} else if ((x = SSL_CTX_get0_certificate(ctx)) == NULL ||
	           !find_wildcard(x, set->host, out->domain)) {
		if (set->host[0] != '\0')
			snprintf(why, why_size,
			         "certificate %s has no name *.%s (ingress-sni host)",
			         set->cert_file, set->host);
		else
			snprintf(why, why_size,
			         "certificate %s has no wildcard name *.<domain> (subject CN or "
			         "subjectAltName)",
			         set->cert_file);
	} else {
		out->ctx = ctx;
		ERR_clear_error();
		return EXPOSR_OK;
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return EXPOSR_ERROR;
}

void sni_cert_free(struct sni_cert *c)
{
	SSL_CTX_free(c->ctx);
	c->ctx = NULL;
}

/* Host key loading, generation, persistence and fingerprint. */
#include "hostkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <common/b64.h>

/* OpenSSH private keys are a few KiB; anything far larger is not one. */
#define HOSTKEY_FILE_MAX (64 * 1024)

static const char PEM_MARK[] = "-----BEGIN ";

/* The whole file as a string; NULL with errno set when it cannot be read. */
static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	char *text = malloc(HOSTKEY_FILE_MAX + 1);
	size_t n = text != NULL ? fread(text, 1, HOSTKEY_FILE_MAX + 1, f) : 0;
	int failed = text == NULL || ferror(f) || n > HOSTKEY_FILE_MAX;
	fclose(f);
	if (failed) {
		free(text);
		errno = EFBIG;
		return NULL;
	}
	text[n] = '\0';
	return text;
}

static ssh_key import_text(const char *text, char *err, size_t err_size, const char *what)
{
	ssh_key key = NULL;
	if (ssh_pki_import_privkey_base64(text, NULL, NULL, NULL, &key) != SSH_OK) {
		snprintf(err, err_size, "%s is not a private key libssh can read", what);
		return NULL;
	}
	return key;
}

ssh_key hostkey_from_setting(const char *setting, char *err, size_t err_size)
{
	if (strstr(setting, PEM_MARK) != NULL)
		return import_text(setting, err, err_size, "the key text");
	char *text = read_text(setting);
	if (text != NULL) {
		ssh_key key = import_text(text, err, err_size, "the key file");
		free(text);
		return key;
	}
	size_t len = strlen(setting);
	char *decoded = malloc(B64_DECODED_MAX(len) + 1);
	if (decoded == NULL) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	size_t n = b64_decode_lenient(setting, len, (unsigned char *)decoded);
	decoded[n] = '\0';
	ssh_key key = NULL;
	if (n == strlen(decoded) && strstr(decoded, PEM_MARK) != NULL)
		key = import_text(decoded, err, err_size, "the base64 key");
	else
		snprintf(err, err_size,
		         "neither a readable key file, nor a private key, nor base64 of one");
	free(decoded);
	return key;
}

static int write_new(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = errno;
			close(fd);
			unlink(path);
			errno = saved;
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

ssh_key hostkey_from_file(const char *path, bool *generated, char *err, size_t err_size)
{
	*generated = false;
	char *text = read_text(path);
	if (text != NULL) {
		ssh_key key = import_text(text, err, err_size, path);
		free(text);
		return key;
	}
	if (errno != ENOENT) {
		snprintf(err, err_size, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	ssh_key key = NULL;
	char *exported = NULL;
	if (ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
	    ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &exported) != SSH_OK) {
		snprintf(err, err_size, "cannot generate a host key");
		ssh_key_free(key);
		return NULL;
	}
	if (write_new(path, exported) != 0) {
		snprintf(err, err_size, "cannot write the host key to %s: %s", path,
		         strerror(errno));
		ssh_string_free_char(exported);
		ssh_key_free(key);
		return NULL;
	}
	ssh_string_free_char(exported);
	*generated = true;
	return key;
}

int hostkey_fingerprint(const ssh_key key, char *out, size_t size)
{
	unsigned char *hash = NULL;
	size_t hlen = 0;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0)
		return -1;
	char *text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	ssh_clean_pubkey_hash(&hash);
	if (text == NULL)
		return -1;
	int n = snprintf(out, size, "%s", text);
	ssh_string_free_char(text);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

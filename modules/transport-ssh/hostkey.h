/* The SSH host key: from the `key` setting (a path, the key text or its base64), else
 * from the key file, generated and written there once when it does not exist yet. */
#ifndef EXPOSR_SSH_HOSTKEY_H
#define EXPOSR_SSH_HOSTKEY_H

#include <stdbool.h>
#include <stddef.h>

#include <libssh/libssh.h>

/* Parses the `key` setting. NULL and an error message in `err` when it is none of the
 * three forms or the key cannot be read. */
ssh_key hostkey_from_setting(const char *setting, char *err, size_t err_size);

/* Reads `path`, or generates an Ed25519 key and writes it there (mode 0600) when the
 * file does not exist. *generated tells which happened. */
ssh_key hostkey_from_file(const char *path, bool *generated, char *err, size_t err_size);

/* "SHA256:" + unpadded base64 of the public key blob's SHA-256 (OpenSSH's form). */
int hostkey_fingerprint(const ssh_key key, char *out, size_t size);

#endif

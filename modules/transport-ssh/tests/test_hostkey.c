/* The host key setting's three forms, the generated key file and the fingerprint. */
#include <criterion/criterion.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostkey.h"

static char dir[] = "/tmp/exposr-hostkey-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

static char *key_text(void)
{
	ssh_key key = NULL;
	char *text = NULL;
	cr_assert_eq(ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key), SSH_OK);
	cr_assert_eq(ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &text), SSH_OK);
	ssh_key_free(key);
	return text;
}

static void fingerprint_of(ssh_key key, char *out)
{
	cr_assert_not_null(key);
	cr_assert_eq(hostkey_fingerprint(key, out, 128), 0);
	ssh_key_free(key);
}

Test(hostkey, text_path_and_base64_give_the_same_key, .init = setup, .fini = teardown)
{
	char err[256], a[128], b[128], c[128], path[256];
	char *text = key_text();
	fingerprint_of(hostkey_from_setting(text, err, sizeof(err)), a);
	cr_assert_eq(strncmp(a, "SHA256:", 7), 0);
	cr_assert_eq(strlen(a), 7 + 43, "SHA256: and 43 unpadded base64 characters: %s", a);

	snprintf(path, sizeof(path), "%s/key", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	fingerprint_of(hostkey_from_setting(path, err, sizeof(err)), b);
	cr_assert_str_eq(a, b);

	char *encoded = malloc((strlen(text) + 2) / 3 * 4 + 1);
	cr_assert_not_null(encoded);
	EVP_EncodeBlock((unsigned char *)encoded, (const unsigned char *)text, (int)strlen(text));
	fingerprint_of(hostkey_from_setting(encoded, err, sizeof(err)), c);
	cr_assert_str_eq(a, c);
	free(encoded);
	ssh_string_free_char(text);
}

Test(hostkey, bad_settings_are_refused_with_a_reason, .init = setup, .fini = teardown)
{
	char err[256];
	cr_assert_null(hostkey_from_setting("/nonexistent/key", err, sizeof(err)));
	cr_assert_str_eq(err, "neither a readable key file, nor a private key, nor base64 of one");
	cr_assert_null(hostkey_from_setting("-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n", err,
	                                    sizeof(err)));
	cr_assert_str_eq(err, "the key text is not a private key libssh can read");
}

Test(hostkey, generated_once_then_reused, .init = setup, .fini = teardown)
{
	char err[256], a[128], b[128], path[256];
	bool generated;
	snprintf(path, sizeof(path), "%s/host-key", dir);
	fingerprint_of(hostkey_from_file(path, &generated, err, sizeof(err)), a);
	cr_assert(generated);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "the private key is readable by its owner only");
	fingerprint_of(hostkey_from_file(path, &generated, err, sizeof(err)), b);
	cr_assert_not(generated);
	cr_assert_str_eq(a, b);
}

Test(hostkey, unwritable_key_file_is_an_error, .init = setup, .fini = teardown)
{
	char err[256];
	bool generated;
	cr_assert_null(hostkey_from_file("/nonexistent-dir/key", &generated, err, sizeof(err)));
	cr_assert(strstr(err, "cannot write the host key to /nonexistent-dir/key") != NULL, "%s",
	          err);
}

/* Name checks: domain names as Joi's string().domain() accepts them, and tunnel ids. */
#include <ctype.h>
#include <string.h>

#include "common/validate.h"

static bool label_char(unsigned char c)
{
	return isalnum(c) || c == '-';
}

static bool label_valid(const char *label, size_t len, bool top_level)
{
	if (len == 0 || len > 63)
		return false;
	unsigned char first = (unsigned char)label[0], last = (unsigned char)label[len - 1];
	if (top_level ? !isalpha(first) : !isalnum(first))
		return false;
	if (!isalnum(last))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!label_char((unsigned char)label[i]))
			return false;
	return true;
}

bool domain_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > 256)
		return false;
	/* The characters @sideway/address refuses before looking at labels; anything else
	 * outside letters, digits and hyphens fails the label check. Non-ASCII would need
	 * punycode, which the alt-name machinery does not do. */
	size_t labels = 1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c >= 0x80)
			return false;
		if (c == '.')
			labels++;
	}
	if (labels < 2)
		return false;
	const char *label = name;
	for (size_t i = 0; i < labels; i++) {
		const char *dot = strchr(label, '.');
		size_t label_len = dot != NULL ? (size_t)(dot - label) : strlen(label);
		if (!label_valid(label, label_len, i == labels - 1))
			return false;
		label += label_len + 1;
	}
	return true;
}

static bool id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool tunnel_id_valid(const char *id)
{
	size_t len = strlen(id);
	bool plain = len >= 4 && len <= 63;
	for (size_t i = 0; i < len && plain; i++)
		plain = id_char((unsigned char)id[i]);
	if (plain)
		return true;
	if (len < 6 || len > 65 || !id_char((unsigned char)id[0]) ||
	    !id_char((unsigned char)id[len - 1]))
		return false;
	for (size_t i = 1; i + 1 < len; i++)
		if (!id_char((unsigned char)id[i]) && id[i] != '-')
			return false;
	return true;
}

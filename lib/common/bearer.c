/* The credential in an Authorization header, read as exposrd reads it. */
#include "common/bearer.h"

#include <stdlib.h>
#include <string.h>

#include "common/b64.h"

int bearer_decode(const char *authorization, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (authorization == NULL)
		return -1;
	/* JavaScript's split(' ')[1]: the text between the first and second space. */
	const char *first = strchr(authorization, ' ');
	if (first == NULL)
		return -1;
	const char *word = first + 1;
	const char *end = strchr(word, ' ');
	size_t word_len = end != NULL ? (size_t)(end - word) : strlen(word);
	if (word_len == 0)
		return -1;
	unsigned char *bytes = malloc(B64_DECODED_MAX(word_len) + 1);
	if (bytes == NULL)
		return -2;
	*len = b64_decode_lenient(word, word_len, bytes);
	bytes[*len] = '\0';
	*out = (char *)bytes;
	return 0;
}

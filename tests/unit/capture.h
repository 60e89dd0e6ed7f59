/* Test helpers: capture what a call prints on stderr; write a temporary file. */
#ifndef EXPOSR_TEST_CAPTURE_H
#define EXPOSR_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Starts sending stderr to a temporary file; returns the saved descriptor. */
static inline int capture_begin(FILE **tmp)
{
	fflush(stderr);
	*tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	if (*tmp == NULL || saved < 0 || dup2(fileno(*tmp), STDERR_FILENO) < 0)
		abort();
	return saved;
}

/* Restores stderr; returns what was printed (caller frees). */
static inline char *capture_end(FILE *tmp, int saved)
{
	fflush(stderr);
	if (dup2(saved, STDERR_FILENO) < 0)
		abort();
	close(saved);
	long n = ftell(tmp);
	char *text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
	if (text == NULL)
		abort();
	rewind(tmp);
	if (n > 0 && fread(text, 1, (size_t)n, tmp) != (size_t)n)
		abort();
	fclose(tmp);
	return text;
}

/* Writes `text` to a new temporary file named like `suffix`; caller unlinks/frees. */
static inline char *write_temp(const char *text, const char *suffix)
{
	char *path;
	if (asprintf(&path, "/tmp/exposr-test-XXXXXX%s", suffix) < 0)
		abort();
	int fd = mkstemps(path, (int)strlen(suffix));
	if (fd < 0)
		abort();
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
	return path;
}

#endif

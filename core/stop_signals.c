/* SIGTERM and SIGINT held back while exposrd starts and while it tears down. */
#include "stop_signals.h"

#include <signal.h>
#include <stddef.h>

static int stop_set(sigset_t *set)
{
	if (sigemptyset(set) != 0 || sigaddset(set, SIGTERM) != 0 || sigaddset(set, SIGINT) != 0)
		return -1;
	return 0;
}

int stop_signals_block(void)
{
	sigset_t set;
	if (stop_set(&set) != 0 || sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	return signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0;
}

int stop_signals_pending(void)
{
	sigset_t pending;
	if (sigpending(&pending) != 0)
		return 0;
	if (sigismember(&pending, SIGTERM) == 1)
		return SIGTERM;
	if (sigismember(&pending, SIGINT) == 1)
		return SIGINT;
	return 0;
}

int stop_signals_unblock(void)
{
	sigset_t set;
	if (stop_set(&set) != 0 || sigprocmask(SIG_UNBLOCK, &set, NULL) != 0)
		return -1;
	return 0;
}

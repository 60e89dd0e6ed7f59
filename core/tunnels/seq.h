/* Runs a sequence of asynchronous steps as a loop, so that a storage answering
 * synchronously does not turn a long sequence into deep recursion. */
#ifndef EXPOSR_CORE_SEQ_H
#define EXPOSR_CORE_SEQ_H

#include <stdbool.h>

/* Embedded in an operation. `step` starts one asynchronous call whose completion
 * calls seq_done(), and returns true; or it finishes the operation (which may free
 * it) and returns false. Completions only record results: they never free. */
struct seq {
	bool (*step)(void *op);
	bool in_step;   /* inside step(): a completion now is synchronous */
	bool completed; /* the step's call completed synchronously */
};

static inline void seq_run(struct seq *s, void *op)
{
	do {
		s->in_step = true;
		s->completed = false;
		if (!s->step(op))
			return;
		s->in_step = false;
	} while (s->completed);
}

static inline void seq_done(struct seq *s, void *op)
{
	if (s->in_step)
		s->completed = true;
	else
		seq_run(s, op);
}

#endif

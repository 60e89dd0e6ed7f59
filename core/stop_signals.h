/* SIGTERM and SIGINT from exposrd's first instruction on: blocked until the event loop
 * runs, so one that comes during start-up waits as pending instead of killing the
 * process, and blocked again while the process tears down. */
#ifndef EXPOSR_CORE_STOP_SIGNALS_H
#define EXPOSR_CORE_STOP_SIGNALS_H

/* Blocks both (and ignores SIGPIPE); 0, or -1 with errno set. */
int stop_signals_block(void);
/* The stop signal that came while they were blocked, or 0. */
int stop_signals_pending(void);
/* Lets them through to the handlers the event loop installed; 0, or -1 with errno set. */
int stop_signals_unblock(void);

#endif

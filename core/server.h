/* The server's life: load modules, open listeners, run the loop, shut down. */
#ifndef EXPOSR_CORE_SERVER_H
#define EXPOSR_CORE_SERVER_H

struct exposr_cfg;

/* Exit statuses. */
#define EXIT_CONFIG 2 /* bad configuration or arguments */
#define EXIT_START  1 /* a module or listener could not start */

#include <exposr/host.h>

enum exposr_server_state server_state(void);

/* Runs until SIGTERM/SIGINT; returns the process exit status. */
int server_run(const struct exposr_cfg *root, const char *module_dir);

#endif

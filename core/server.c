/* The server's life: load modules, open listeners, run the loop, shut down. */
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "cluster.h"
#include "core_settings.h"
#include "event_loop.h"
#include "host_table.h"
#include "http_listener.h"
#include "loader.h"
#include "log.h"
#include "metrics_table.h"
#include "services.h"
#include "stop_signals.h"
#include "streams.h"
#include "timeval_ms.h"

struct server {
	struct event_base *base;
	struct event *sigterm, *sigint;
	struct event *drain_timeout;
	struct event *cluster_drain; /* multi-node: re-routed traffic finishes first */
	long shutdown_timeout_s;
	long busy_poll_us;
	int signals_seen;
	enum exposr_server_state state;
};

static struct server server;

/* The core's settings, once: the log, the listeners' limits, the drain timeout. */
static int read_core(const struct exposr_cfg *root, struct http_limits *limits, const char **bind)
{
	struct core_settings cs;
	if (core_settings_read(root, &cs) != 0)
		return -1;
	log_configure((enum exposr_log_level)log_level_parse(cs.log_level),
	              strcmp(cs.log_format, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT);
	limits->max_head_bytes = (size_t)cs.max_head_size;
	limits->max_headers = (size_t)cs.max_headers;
	limits->head_timeout_ms = (unsigned)cs.head_timeout_s * 1000;
	limits->idle_timeout_ms = (unsigned)cs.idle_timeout_s * 1000;
	*bind = cs.bind != NULL && cs.bind[0] != '\0' ? cs.bind : NULL;
	server.shutdown_timeout_s = cs.shutdown_timeout_s;
	server.busy_poll_us = cs.busy_poll_us;
	return 0;
}

enum exposr_server_state server_state(void)
{
	/* Running, but still learning the other nodes: not ready yet (docs/cluster.md §8.5). */
	if (server.state == EXPOSR_SERVER_RUNNING && !cluster_ready())
		return EXPOSR_SERVER_STARTING;
	return server.state;
}

static void exit_loop(void)
{
	event_base_loopexit(server.base, NULL);
}

static void finish_shutdown(void)
{
	log_info("all modules drained");
	/* Answers written while draining still reach their clients. */
	http_listeners_quiesce(exit_loop);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_warn("modules did not drain within %ld s; exiting anyway", server.shutdown_timeout_s);
	event_base_loopexit(server.base, NULL);
}

/* Listeners close and modules drain. */
static void stop_modules(void)
{
	http_listeners_stop_accepting();
	loader_stop_all(finish_shutdown);
}

static void on_cluster_drained(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	stop_modules();
}

/* docs/cluster.md §8.2: local connections close (and that is announced), heartbeats stop,
 * then in a cluster the other nodes get CLUSTER_DRAIN_MS to stop sending traffic here
 * (bounded by the shutdown timeout), then listeners close and modules drain. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	(void)arg;
	if (++server.signals_seen > 1) {
		log_warn("second signal (%s): exiting now", strsignal((int)sig));
		_exit(EXIT_START);
	}
	log_info("%s: shutting down (draining for up to %ld s)", strsignal((int)sig),
	         server.shutdown_timeout_s);
	server.state = EXPOSR_SERVER_STOPPING;
	services_shutdown();
	cluster_shutdown();
	struct timeval tv = {.tv_sec = server.shutdown_timeout_s, .tv_usec = 0};
	server.drain_timeout = evtimer_new(server.base, on_drain_timeout, NULL);
	if (server.drain_timeout == NULL || evtimer_add(server.drain_timeout, &tv) != 0)
		log_error("cannot arm the drain timer; waiting for modules without a limit");
	long wait_ms = cluster_multi_node() ? CLUSTER_DRAIN_MS : 0;
	if (wait_ms > server.shutdown_timeout_s * 1000)
		wait_ms = server.shutdown_timeout_s * 1000;
	if (wait_ms == 0) {
		stop_modules();
		return;
	}
	struct timeval wait = timeval_from_ms((uint64_t)wait_ms);
	server.cluster_drain = evtimer_new(server.base, on_cluster_drained, NULL);
	if (server.cluster_drain == NULL || evtimer_add(server.cluster_drain, &wait) != 0) {
		log_error("cannot arm the cluster drain timer; stopping now");
		stop_modules();
	}
}

/* The handlers go in before anything starts; the signals stay blocked until the loop runs. */
static int install_signals(void)
{
	server.sigterm = evsignal_new(server.base, SIGTERM, on_signal, NULL);
	server.sigint = evsignal_new(server.base, SIGINT, on_signal, NULL);
	if (server.sigterm == NULL || server.sigint == NULL || evsignal_add(server.sigterm, NULL) ||
	    evsignal_add(server.sigint, NULL))
		return -1;
	return 0;
}

static void free_server(void)
{
	if (server.sigterm != NULL)
		event_free(server.sigterm);
	if (server.sigint != NULL)
		event_free(server.sigint);
	if (server.drain_timeout != NULL)
		event_free(server.drain_timeout);
	if (server.cluster_drain != NULL)
		event_free(server.cluster_drain);
	stream_sockets_free_closing();
	if (server.base != NULL)
		event_base_free(server.base);
	memset(&server, 0, sizeof(server));
}

/* A stop signal that came while starting ends start-up between two steps. */
static bool start_interrupted(void)
{
	int sig = stop_signals_pending();
	if (sig == 0)
		return false;
	log_info("%s: shutting down (during start-up)", strsignal(sig));
	return true;
}

enum start_result { START_OK, START_FAILED, START_INTERRUPTED };

/* Storage, listeners, modules, cluster, in that order. One signal that comes after the last
 * check is pending until the loop runs and takes it. */
static enum start_result start_all(const char *bind, const struct http_limits *limits)
{
	if (start_interrupted())
		return START_INTERRUPTED;
	if (services_start() != 0)
		return START_FAILED;
	if (start_interrupted())
		return START_INTERRUPTED;
	if (http_listeners_open(server.base, bind, limits) != 0)
		return START_FAILED;
	if (start_interrupted())
		return START_INTERRUPTED;
	if (loader_start_all() != 0 || cluster_start() != 0)
		return START_FAILED;
	if (stop_signals_unblock() != 0) {
		log_error("cannot unblock SIGTERM and SIGINT: %s", strerror(errno));
		return START_FAILED;
	}
	return START_OK;
}

/* The loop until a stop signal has drained the modules: 0, or -1 if the loop failed. */
static int run_loop(const char *module_dir)
{
	server.state = EXPOSR_SERVER_RUNNING;
	log_info("exposrd %s running with %zu modules from %s", EXPOSR_VERSION,
	         loader_module_count(), module_dir);
	if (server.busy_poll_us > 0)
		log_info("busy polling: the loop polls for %ld us after each wake-up",
		         server.busy_poll_us);
	int rc = 0;
	if (event_loop_run(server.base, server.busy_poll_us) != 0) {
		log_error("event loop failed");
		rc = -1;
	}
	/* A signal during the tear-down finds its handler gone: it waits, blocked, instead. */
	if (stop_signals_block() != 0)
		log_warn("cannot block SIGTERM and SIGINT again: %s", strerror(errno));
	return rc;
}

/* The helpers above return 0 or -1; only this function speaks in exit statuses. Every path
 * leaves through the one tear-down at `out`, each part of which is a no-op for what never
 * started. */
int server_run(const struct exposr_cfg *root, const char *module_dir)
{
	struct http_limits limits;
	const char *bind;
	int rc = EXIT_CONFIG;
	if (read_core(root, &limits, &bind) != 0 || services_configure(root) != 0 ||
	    cluster_configure(root) != 0)
		goto out;
	log_hold();
	rc = EXIT_START;
	server.base = event_base_new();
	if (server.base == NULL) {
		log_error("cannot create the event loop");
		goto out;
	}
	if (install_signals() != 0) {
		log_error("cannot install the SIGTERM and SIGINT handlers");
		goto out;
	}
	const struct exposr_host *host = host_table(server.base);
	if (loader_init_all(host, module_dir, cfg_api.child(root, "modules")) != 0) {
		rc = EXIT_CONFIG;
		goto out;
	}
	switch (start_all(bind, &limits)) {
	case START_OK:
		log_release(true);
		rc = run_loop(module_dir) == 0 ? 0 : EXIT_START;
		break;
	case START_INTERRUPTED:
		log_release(true);
		rc = 0;
		break;
	case START_FAILED:
		break;
	}
	if (rc == 0)
		log_info("stopped");
out:
	/* Before the bus module goes: nothing may publish through it any more. */
	cluster_free();
	loader_fini_all();
	/* A start that failed shows its error alone. */
	log_release(false);
	services_free();
	http_listeners_free();
	free_server();
	metrics_free();
	return rc;
}

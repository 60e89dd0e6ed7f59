/* tunnel connect (see connect.h). */
#include "connect.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>

#include "client_log.h"
#include "client_url.h"
#include "monotonic.h"
#include "mux_client.h"
#include "net.h"
#include "server_api.h"
#include "session.h"
#include "timeval_ms.h"
#include "ws_client.h"

#define TICK_MS       1000
#define CLOSE_WAIT_MS 2000

enum slot_state {
	SLOT_IDLE,       /* waiting for the connect lock or its back-off */
	SLOT_FETCHING,   /* GET /v1/tunnel/<id> for a fresh token */
	SLOT_CONNECTING, /* websocket upgrade */
	SLOT_OPEN,
	SLOT_STOPPED, /* closed with 1008, or the client is stopping */
};

struct session;

struct slot {
	struct session *s;
	int index;
	enum slot_state state;
	bool waiting; /* wants the connect lock */
	struct mux_client *mux;
	struct net_target server;
	struct event *retry;
	double backoff_ms;
};

struct session {
	struct event_base *base;
	struct api *api;
	char account[ACCOUNT_MAX];
	char id[TUNNEL_ID_MAX + 1];
	bool created; /* deleted on exit, as the exposr client does */
	char target_url[2048];
	char public_url[1024];
	struct net_target target;
	struct evdns_base *dns; /* the target's and the server's addresses are refreshed by it */
	SSL_CTX *server_tls;    /* wss:// */
	struct slot *slots;
	int nslots;
	struct slot *lock; /* one slot fetches and connects at a time (§4.10) */
	struct event *tick, *sigint, *sigterm, *stop_timer;
	bool stopping;
	int exit_code;
};

double connect_next_backoff(double current_ms, double random01)
{
	double next = current_ms * (1.1 + 0.05 * random01);
	return next > CONNECT_BACKOFF_MAX_MS ? CONNECT_BACKOFF_MAX_MS : next;
}

static double random01(void)
{
	unsigned int r;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return 0.5;
	return r / 4294967296.0;
}

static void slot_start(struct slot *sl);

static void release_lock(struct slot *sl)
{
	struct session *s = sl->s;
	if (s->lock != sl)
		return;
	s->lock = NULL;
	for (int i = 0; i < s->nslots; i++) {
		struct slot *next = &s->slots[(sl->index + 1 + i) % s->nslots];
		if (next->waiting) {
			slot_start(next);
			return;
		}
	}
}

static int count_slots(const struct session *s, enum slot_state state)
{
	int n = 0;
	for (int i = 0; i < s->nslots; i++)
		n += s->slots[i].state == state;
	return n;
}

static void stop(struct session *s, int exit_code);

/* A slot whose attempt failed for good ends the client. */
static void fail_slot(struct slot *sl)
{
	sl->state = SLOT_IDLE;
	stop(sl->s, 1);
	release_lock(sl);
}

static void retry_later(struct slot *sl)
{
	struct session *s = sl->s;
	release_lock(sl);
	sl->state = SLOT_IDLE;
	if (s->stopping)
		return;
	struct timeval tv = timeval_from_ms((uint64_t)sl->backoff_ms);
	log_msg(LOG_DEBUG, "connection %d: next attempt in %.1f s", sl->index + 1,
	        sl->backoff_ms / 1000);
	sl->backoff_ms = connect_next_backoff(sl->backoff_ms, random01());
	evtimer_add(sl->retry, &tv);
}

static void mux_opened(void *arg)
{
	struct slot *sl = arg;
	sl->state = SLOT_OPEN;
	sl->backoff_ms = CONNECT_BACKOFF_FIRST_MS;
	log_msg(LOG_INFO, "connection %d established to %s", sl->index + 1, sl->server.host);
	release_lock(sl);
}

static void mux_closed(void *arg, int http_status, uint16_t code)
{
	struct slot *sl = arg;
	struct session *s = sl->s;
	bool was_open = sl->state == SLOT_OPEN;
	mux_client_free(sl->mux);
	sl->mux = NULL;
	if (s->stopping) {
		sl->state = SLOT_STOPPED;
		if (count_slots(s, SLOT_STOPPED) == s->nslots)
			event_base_loopexit(s->base, NULL);
		return;
	}
	if (was_open && code == 1008) {
		/* The tunnel was disconnected, deleted or refused: this slot stops. */
		release_lock(sl);
		sl->state = SLOT_STOPPED;
		log_msg(LOG_WARN, "connection %d closed by the server (1008): not reconnecting",
		        sl->index + 1);
		if (count_slots(s, SLOT_STOPPED) == s->nslots) {
			log_msg(LOG_ERROR, "every connection was closed by the server");
			stop(s, 1);
		}
		return;
	}
	if (was_open)
		log_msg(LOG_WARN, "connection %d closed (%u), reconnecting", sl->index + 1, code);
	else if (http_status != 0)
		log_msg(LOG_WARN, "connection %d: the server refused the websocket (HTTP %d)",
		        sl->index + 1, http_status);
	else
		log_msg(LOG_WARN, "connection %d: cannot connect to %s:%d", sl->index + 1,
		        sl->server.host, sl->server.port);
	retry_later(sl);
}

static const struct mux_client_handler slot_handler = {
        .opened = mux_opened,
        .closed = mux_closed,
};

static bool is_fatal(const char *code)
{
	return strcmp(code, "TUNNEL_NOT_FOUND") == 0 || strcmp(code, "AUTH_NO_TOKEN") == 0 ||
	       strcmp(code, "PERMISSION_DENIED") == 0;
}

/* The answer to the GET before each websocket: its transport.ws.url, token included. */
static void got_tunnel(void *arg, struct api_result *r)
{
	struct slot *sl = arg;
	struct session *s = sl->s;
	if (s->stopping) {
		release_lock(sl);
		sl->state = SLOT_STOPPED;
		if (count_slots(s, SLOT_STOPPED) == s->nslots)
			event_base_loopexit(s->base, NULL);
		return;
	}
	const char *code = api_error_code(r);
	if (r->status != 200) {
		log_msg(LOG_WARN, "connection %d: %s", sl->index + 1, r->msg);
		if (code != NULL && is_fatal(code)) {
			fail_slot(sl);
			return;
		}
		retry_later(sl);
		return;
	}
	const char *ws_url = session_string(r->json, "transport", "ws", "url", NULL);
	struct client_url u;
	char err[512], host[300];
	if (ws_url == NULL || client_url_parse(ws_url, &u, err, sizeof(err)) != 0 ||
	    (strcmp(u.parts.scheme, "ws") != 0 && strcmp(u.parts.scheme, "wss") != 0)) {
		log_msg(LOG_ERROR, "No tunnel endpoint available");
		fail_slot(sl);
		return;
	}
	if (strcmp(sl->server.host, u.host) != 0 || sl->server.port != u.port) {
		if (net_target_set(&sl->server, u.host, u.port, err, sizeof(err)) != 0) {
			log_msg(LOG_WARN, "connection %d: %s", sl->index + 1, err);
			retry_later(sl);
			return;
		}
	}
	net_target_refresh(&sl->server, monotonic_ms());
	if (u.tls && s->server_tls == NULL && (s->server_tls = net_tls_context(true)) == NULL) {
		log_msg(LOG_ERROR, "cannot set up TLS");
		fail_slot(sl);
		return;
	}
	sl->server.tls = u.tls ? s->server_tls : NULL;
	struct bufferevent *bev = url_host(&u.parts, host, sizeof(host)) == 0
	                                  ? net_connect(s->base, &sl->server)
	                                  : NULL;
	sl->mux = bev != NULL ? mux_client_connect(s->base, bev, host, u.path, &s->target,
	                                           &slot_handler, sl)
	                      : NULL;
	if (sl->mux == NULL) {
		log_msg(LOG_WARN, "connection %d: cannot connect to %s:%d", sl->index + 1, u.host,
		        u.port);
		retry_later(sl);
		return;
	}
	sl->state = SLOT_CONNECTING;
}

static void slot_start(struct slot *sl)
{
	struct session *s = sl->s;
	char path[128];
	if (s->stopping || sl->state == SLOT_STOPPED)
		return;
	if (s->lock != NULL && s->lock != sl) {
		sl->waiting = true;
		return;
	}
	sl->waiting = false;
	s->lock = sl;
	sl->state = SLOT_FETCHING;
	snprintf(path, sizeof(path), "v1/tunnel/%s", s->id);
	if (api_request(s->api, "GET", path, NULL, got_tunnel, sl) != 0)
		retry_later(sl);
}

static void retry_fired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	slot_start(arg);
}

static void format_bytes(char *out, size_t len, uint64_t n)
{
	if (n >= 1024 * 1024)
		snprintf(out, len, "%.1f MiB", n / (1024.0 * 1024.0));
	else if (n >= 1024)
		snprintf(out, len, "%.1f KiB", n / 1024.0);
	else
		snprintf(out, len, "%llu B", (unsigned long long)n);
}

static void draw_status(struct session *s)
{
	const struct mux_client_stats *st = &mux_client_stats;
	char in[32], out[32], line[4096];
	format_bytes(in, sizeof(in), st->bytes_to_target);
	format_bytes(out, sizeof(out), st->bytes_from_target);
	snprintf(line, sizeof(line),
	         "%s -> %s | websockets %d/%d | connections %llu open, %llu total | requests "
	         "%llu | in %s, out %s",
	         s->public_url[0] ? s->public_url : s->id, s->target_url, count_slots(s, SLOT_OPEN),
	         s->nslots, (unsigned long long)(st->channels_opened - st->channels_closed),
	         (unsigned long long)st->channels_opened, (unsigned long long)st->requests, in,
	         out);
	log_status(line);
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	uint64_t now = monotonic_ms();
	for (int i = 0; i < s->nslots; i++)
		if (s->slots[i].mux != NULL)
			mux_client_tick(s->slots[i].mux, now);
	net_target_refresh(&s->target, now);
	if (!s->stopping)
		draw_status(s);
}

static void stop_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct session *s = arg;
	event_base_loopexit(s->base, NULL);
}

/* Closes every websocket with 1000 and leaves the loop once they are closed (or after
 * CLOSE_WAIT_MS). */
static void stop(struct session *s, int exit_code)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->exit_code = exit_code;
	log_status(NULL);
	bool waiting = false;
	for (int i = 0; i < s->nslots; i++) {
		struct slot *sl = &s->slots[i];
		evtimer_del(sl->retry);
		if (sl->mux != NULL) {
			mux_client_close(sl->mux);
			waiting = true;
		} else if (sl->state == SLOT_FETCHING) {
			waiting = true; /* its answer ends it */
		} else {
			sl->state = SLOT_STOPPED;
		}
	}
	struct timeval tv = {CLOSE_WAIT_MS / 1000, 0};
	if (waiting)
		evtimer_add(s->stop_timer, &tv);
	else
		event_base_loopexit(s->base, NULL);
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct session *s = arg;
	log_msg(LOG_INFO, "%s: closing the connections",
	        fd == SIGINT ? "interrupted" : "terminated");
	stop(s, 0);
}

/* The API steps of §2.8, 1 to 5. */
static int setup(struct session *s, const struct args *a, const struct command *c, int *nslots)
{
	char err[600], code[64];
	if (a->account != NULL) {
		snprintf(s->account, sizeof(s->account), "%s", a->account);
	} else {
		if (session_register(s->api, s->account, err, sizeof(err)) != 0)
			goto fail;
		log_msg(LOG_INFO, "Created account %s", s->account);
	}
	if (session_login(s->api, s->account, err, sizeof(err)) != 0)
		goto fail;
	cJSON *t = NULL;
	if (c->id != NULL) {
		snprintf(s->id, sizeof(s->id), "%s", c->id);
		t = session_tunnel(s->api, s->id, code, sizeof(code), err, sizeof(err));
		if (t == NULL && strcmp(code, "TUNNEL_NOT_FOUND") != 0)
			goto fail;
	}
	if (t == NULL) {
		if (session_create(s->api, s->id, err, sizeof(err)) != 0)
			goto fail;
		s->created = true;
		log_msg(LOG_INFO, "Created tunnel %s", s->id);
	}
	cJSON_Delete(t);
	/* The given options, then the target, HTTP ingress for an http target and the
	 * websocket transport unless set. */
	struct command extra = *c;
	extra.target = NULL;
	char *bodies[3] = {NULL, NULL, NULL};
	int nb = 0;
	if (c->target != NULL)
		bodies[nb++] = command_setting_body("target-url", c->target, err, sizeof(err));
	if (c->target != NULL && strncmp(c->target, "http", 4) == 0 &&
	    command_find(c, "ingress-http") < 0)
		bodies[nb++] = command_setting_body("ingress-http", "true", err, sizeof(err));
	if (command_find(c, "transport-ws") < 0)
		bodies[nb++] = command_setting_body("transport-ws", "true", err, sizeof(err));
	int rc = 0;
	for (int i = 0; i < nb && rc == 0; i++) {
		if (bodies[i] == NULL || extra.nsettings == COMMAND_MAX_SETTINGS)
			rc = -1;
		else
			extra.settings[extra.nsettings++] = (struct setting){"", bodies[i]};
	}
	if (rc == 0)
		rc = session_configure(s->api, s->id, &extra, err, sizeof(err));
	for (int i = 0; i < nb; i++)
		free(bodies[i]);
	if (rc != 0)
		goto fail;
	t = session_tunnel(s->api, s->id, NULL, 0, err, sizeof(err));
	if (t == NULL)
		goto fail;
	const char *target = session_string(t, "target", "url", NULL);
	const char *public_url = session_string(t, "ingress", "http", "url", NULL);
	if (session_string(t, "transport", "ws", "url", NULL) == NULL) {
		snprintf(err, sizeof(err), "No tunnel endpoint available");
	} else if (target == NULL) {
		snprintf(err, sizeof(err),
		         "No target URL set for tunnel %s (tunnel connect %s URL)", s->id, s->id);
	} else {
		snprintf(s->target_url, sizeof(s->target_url), "%s", target);
		snprintf(s->public_url, sizeof(s->public_url), "%s", public_url ? public_url : "");
		*nslots = (int)session_number(t, 1, "transport", "max_connections", NULL);
		err[0] = '\0';
	}
	cJSON_Delete(t);
	if (err[0] != '\0')
		goto fail;
	if (a->max_connections > 0 && a->max_connections < *nslots)
		*nslots = a->max_connections;
	if (*nslots < 1)
		*nslots = 1;
	return 0;
fail:
	log_msg(LOG_ERROR, "%s", err);
	return -1;
}

static int setup_target(struct session *s, const struct args *a)
{
	struct client_url u;
	char err[600];
	if (client_url_parse(s->target_url, &u, err, sizeof(err)) != 0 ||
	    strcmp(u.parts.scheme, "ws") == 0 || strcmp(u.parts.scheme, "wss") == 0 ||
	    u.port == 0) {
		log_msg(LOG_ERROR,
		        "target %s: not an http, https, tcp, tcps or tls URL with a port",
		        s->target_url);
		return -1;
	}
	if (u.tls && (s->target.tls = net_tls_context(!a->insecure)) == NULL) {
		log_msg(LOG_ERROR, "cannot set up TLS");
		return -1;
	}
	/* Requests are counted for the status line only: parsing costs a little per byte. */
	s->target.count_http = log_interactive() && (strcmp(u.parts.scheme, "http") == 0 ||
	                                             strcmp(u.parts.scheme, "https") == 0);
	if (net_target_set(&s->target, u.host, u.port, err, sizeof(err)) != 0) {
		log_msg(LOG_ERROR, "target %s: %s", s->target_url, err);
		return -1;
	}
	return 0;
}

static void teardown(struct session *s)
{
	net_target_cancel(&s->target);
	for (int i = 0; s->slots != NULL && i < s->nslots; i++) {
		net_target_cancel(&s->slots[i].server);
		mux_client_free(s->slots[i].mux);
		if (s->slots[i].retry != NULL)
			event_free(s->slots[i].retry);
	}
	if (s->dns != NULL) {
		/* Delivers the cancellations, which evdns makes from the loop. */
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		evdns_base_free(s->dns, 0);
	}
	free(s->slots);
	mux_client_cleanup();
	ws_client_shutdown();
	struct event *events[] = {s->tick, s->sigint, s->sigterm, s->stop_timer};
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i] != NULL)
			event_free(events[i]);
	SSL_CTX_free(s->target.tls);
	SSL_CTX_free(s->server_tls);
}

static int run(struct session *s, int nslots)
{
	s->slots = calloc((size_t)nslots, sizeof(*s->slots));
	if (s->slots == NULL)
		return -1;
	s->nslots = nslots;
	/* Addresses are looked up again every minute without blocking the tunnels' traffic;
	 * /etc/resolv.conf and /etc/hosts, as getaddrinfo reads them. */
	s->dns = evdns_base_new(s->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	                                         EVDNS_BASE_DISABLE_WHEN_INACTIVE);
	if (s->dns == NULL)
		log_msg(LOG_WARN, "cannot read the DNS configuration: addresses are not refreshed");
	s->target.dns = s->dns;
	s->tick = event_new(s->base, -1, EV_PERSIST, tick, s);
	s->sigint = evsignal_new(s->base, SIGINT, on_signal, s);
	s->sigterm = evsignal_new(s->base, SIGTERM, on_signal, s);
	s->stop_timer = evtimer_new(s->base, stop_timeout, s);
	struct timeval every = {TICK_MS / 1000, 0};
	if (s->tick == NULL || s->sigint == NULL || s->sigterm == NULL || s->stop_timer == NULL ||
	    event_add(s->tick, &every) != 0 || event_add(s->sigint, NULL) != 0 ||
	    event_add(s->sigterm, NULL) != 0)
		return -1;
	for (int i = 0; i < nslots; i++) {
		struct slot *sl = &s->slots[i];
		sl->s = s;
		sl->index = i;
		sl->server.dns = s->dns;
		sl->backoff_ms = CONNECT_BACKOFF_FIRST_MS;
		if ((sl->retry = evtimer_new(s->base, retry_fired, sl)) == NULL)
			return -1;
	}
	log_msg(LOG_INFO, "Tunnel %s: %s -> %s, %d connection%s", s->id,
	        s->public_url[0] ? s->public_url : "(no HTTP ingress)", s->target_url, nslots,
	        nslots == 1 ? "" : "s");
	for (int i = 0; i < nslots; i++)
		slot_start(&s->slots[i]);
	return event_base_dispatch(s->base) < 0 ? -1 : 0;
}

int connect_run(struct event_base *base, const struct args *a, const struct command *c)
{
	struct session s = {.base = base};
	char err[600];
	int nslots = 1, rc = 1;
	s.api = api_new(base, a->server, err, sizeof(err));
	if (s.api == NULL) {
		log_msg(LOG_ERROR, "%s", err);
		return 1;
	}
	if (setup(&s, a, c, &nslots) == 0 && setup_target(&s, a) == 0) {
		if (run(&s, nslots) != 0)
			log_msg(LOG_ERROR, "cannot start the event loop");
		else
			rc = s.exit_code;
	}
	teardown(&s);
	if (s.created) {
		struct api_result r;
		char path[128];
		snprintf(path, sizeof(path), "v1/tunnel/%s", s.id);
		if (api_call(s.api, "DELETE", path, NULL, &r) != 0 || r.status != 204)
			log_msg(LOG_WARN, "could not delete tunnel %s: %s", s.id, r.msg);
		else
			log_msg(LOG_INFO, "Deleted tunnel %s", s.id);
		api_result_clear(&r);
	}
	api_free(s.api);
	return rc;
}

/* The benchmark's load client: drives the API as the exposr client does (docs/api.md §2.8)
 * for K tunnels, keeps C websockets per tunnel (multiplex v2) and connects every channel
 * the server opens to one target address. One event loop. Prints CREATED once the
 * accounts and tunnels exist (with --hold it then waits for SIGUSR2), READY with the
 * setup rates once every tunnel is connected, STATS on SIGUSR1 and at exit. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "api_client.h"
#include "monotonic.h"
#include "mux_client.h"
#include "net.h"
#include "ws_client.h"

#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS   5000
#define TICK_MS        1000
#define RATE_TICK_MS   10

struct options {
	const char *server_host;
	int server_port;
	struct sockaddr_in server, target;
	const char *target_url;
	unsigned tunnels, connections, parallel, api_connections;
	unsigned tunnels_per_account;
	double rate;     /* tunnels started per second in the connect phase; 0: no limit */
	double duration; /* exit after this many seconds; 0: at SIGTERM/SIGINT */
	const char *prefix, *account;
	bool quiet;
	bool hold; /* after creating, wait for SIGUSR2 before connecting */
	bool sni;  /* the tunnels enable the SNI ingress too */
};

enum slot_state {
	SLOT_IDLE,
	SLOT_FETCHING,   /* GET /v1/tunnel/<id> for a fresh token */
	SLOT_CONNECTING, /* upgrade sent */
	SLOT_OPEN,
	SLOT_RETRY,   /* waiting out the back-off */
	SLOT_STOPPED, /* closed with 1008: the client stops the slot for good */
};

struct tunnel;

struct slot {
	struct tunnel *t;
	unsigned index;
	enum slot_state state;
	struct mux_client *mux;
	struct event *retry;
	uint64_t retry_delay;
};

struct account {
	struct lc *lc;
	char *token; /* its API token (§1.3) */
};

struct tunnel {
	struct lc *lc;
	struct account *account;
	unsigned index;
	char id[64];
	unsigned create_step;
	bool connecting; /* initial connect still running */
	unsigned next_slot;
	struct slot *slots;
};

struct lc {
	struct options o;
	struct net_target server, target; /* o.server and o.target, plain TCP */
	struct event_base *base;
	struct api_client *api;
	struct tunnel *tunnels;
	struct account *accounts;
	unsigned naccounts, account_next, account_active, accounts_done;
	unsigned create_next, create_active, created;
	unsigned connect_next, connect_active, connected;
	double tokens;
	uint64_t t_account_start, t_create_start, t_create_end, t_connect_start, t_connect_end;
	unsigned long ws_open, ws_opened_total, ws_failed, ws_closed, reconnects;
	bool ready, stopping;
	struct event *tick, *rate_tick, *sigterm, *sigint, *sigusr1, *sigusr2, *deadline;
};

static void slot_connect(struct slot *s);
static void connect_more(struct lc *lc);

static void fatal(struct lc *lc, const char *fmt, const char *detail)
{
	fprintf(stderr, "load_client: ");
	fprintf(stderr, fmt, detail);
	fprintf(stderr, "\n");
	lc->stopping = true;
	event_base_loopexit(lc->base, NULL);
}

static double seconds(uint64_t from_ms, uint64_t to_ms)
{
	return (double)(to_ms - from_ms) / 1000.0;
}

static void print_stats(struct lc *lc, const char *tag)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	const struct mux_client_stats *s = &mux_client_stats;
	printf("%s tunnels_connected=%u websockets_open=%lu websockets_opened=%lu "
	       "upgrade_failures=%lu reconnects=%lu channels_opened=%llu channels_closed=%llu "
	       "targets_failed=%llu bytes_to_target=%llu bytes_from_target=%llu "
	       "messages_in=%llu messages_out=%llu pauses_sent=%llu pauses_received=%llu "
	       "protocol_errors=%llu cpu_user_s=%.3f cpu_sys_s=%.3f max_rss_kb=%ld\n",
	       tag, lc->connected, lc->ws_open, lc->ws_opened_total, lc->ws_failed, lc->reconnects,
	       (unsigned long long)s->channels_opened, (unsigned long long)s->channels_closed,
	       (unsigned long long)s->targets_failed, (unsigned long long)s->bytes_to_target,
	       (unsigned long long)s->bytes_from_target, (unsigned long long)s->messages_in,
	       (unsigned long long)s->messages_out, (unsigned long long)s->pauses_sent,
	       (unsigned long long)s->pauses_received, (unsigned long long)s->protocol_errors,
	       (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
	fflush(stdout);
}

/* slots: GET the tunnel for a one-time token, then the websocket (§2.8 step 6) */

static void slot_retry_later(struct slot *s)
{
	struct lc *lc = s->t->lc;
	if (lc->stopping)
		return;
	s->state = SLOT_RETRY;
	struct timeval tv = {(time_t)(s->retry_delay / 1000),
	                     (suseconds_t)(s->retry_delay % 1000) * 1000};
	event_add(s->retry, &tv);
	/* The client's back-off: times 1.1 to 1.15, at most about 5 s. */
	s->retry_delay = s->retry_delay * (110 + (uint64_t)(rand() % 6)) / 100;
	if (s->retry_delay > RETRY_MAX_MS)
		s->retry_delay = RETRY_MAX_MS;
}

static void slot_retry_fired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	slot_connect(arg);
}

static void tunnel_slot_done(struct tunnel *t)
{
	struct lc *lc = t->lc;
	if (!t->connecting)
		return;
	if (++t->next_slot < lc->o.connections) {
		slot_connect(&t->slots[t->next_slot]);
		return;
	}
	t->connecting = false;
	lc->connect_active--;
	lc->connected++;
	if (lc->connected == lc->o.tunnels && !lc->ready) {
		lc->ready = true;
		lc->t_connect_end = monotonic_ms();
		double create_s = seconds(lc->t_create_start, lc->t_create_end);
		double connect_s = seconds(lc->t_connect_start, lc->t_connect_end);
		if (create_s <= 0)
			create_s = 0.001;
		if (connect_s <= 0)
			connect_s = 0.001;
		printf("READY tunnels=%u websockets=%lu create_seconds=%.3f created_per_s=%.1f "
		       "connect_seconds=%.3f connected_per_s=%.1f websockets_per_s=%.1f\n",
		       lc->o.tunnels, lc->ws_open, create_s, lc->o.tunnels / create_s, connect_s,
		       lc->o.tunnels / connect_s, (double)lc->ws_open / connect_s);
		fflush(stdout);
	}
	connect_more(lc);
}

static void mux_opened(void *arg)
{
	struct slot *s = arg;
	struct lc *lc = s->t->lc;
	s->state = SLOT_OPEN;
	s->retry_delay = RETRY_FIRST_MS;
	lc->ws_open++;
	lc->ws_opened_total++;
	tunnel_slot_done(s->t);
}

static void mux_closed(void *arg, int http_status, uint16_t code)
{
	struct slot *s = arg;
	struct lc *lc = s->t->lc;
	bool was_open = s->state == SLOT_OPEN;
	mux_client_free(s->mux);
	s->mux = NULL;
	if (was_open) {
		lc->ws_open--;
		lc->ws_closed++;
		if (!lc->o.quiet && !lc->stopping)
			fprintf(stderr, "load_client: tunnel %s slot %u closed (%u)\n", s->t->id,
			        s->index, code);
		/* 1008: the tunnel is gone or refused; the client stops this slot for good. */
		if (code == 1008) {
			s->state = SLOT_STOPPED;
			return;
		}
		lc->reconnects++;
		slot_connect(s);
		return;
	}
	lc->ws_failed++;
	if (!lc->o.quiet && !lc->stopping)
		fprintf(stderr, "load_client: tunnel %s slot %u: upgrade failed (status %d)\n",
		        s->t->id, s->index, http_status);
	slot_retry_later(s);
}

static const struct mux_client_handler slot_handler = {
        .opened = mux_opened,
        .closed = mux_closed,
};

static void slot_got_tunnel(void *arg, int status, const char *body, size_t len)
{
	(void)len;
	struct slot *s = arg;
	struct lc *lc = s->t->lc;
	if (lc->stopping)
		return;
	const char *url = NULL;
	cJSON *json = status == 200 ? cJSON_Parse(body) : NULL;
	if (json != NULL) {
		cJSON *u = cJSON_GetObjectItemCaseSensitive(
		        cJSON_GetObjectItemCaseSensitive(
		                cJSON_GetObjectItemCaseSensitive(json, "transport"), "ws"),
		        "url");
		if (cJSON_IsString(u))
			url = u->valuestring;
	}
	/* ws://<host>/v1/tunnel/<id>/ws-endpoint?t=<token>: we connect to the server
	 * address given on the command line and request the URL's path. */
	const char *path = url != NULL ? strstr(url, "://") : NULL;
	path = path != NULL ? strchr(path + 3, '/') : NULL;
	if (path == NULL) {
		if (!lc->o.quiet)
			fprintf(stderr, "load_client: GET /v1/tunnel/%s: status %d, no endpoint\n",
			        s->t->id, status);
		cJSON_Delete(json);
		lc->ws_failed++;
		slot_retry_later(s);
		return;
	}
	s->state = SLOT_CONNECTING;
	struct bufferevent *bev = net_connect(lc->base, &lc->server);
	s->mux = bev != NULL ? mux_client_connect(lc->base, bev, api_client_host(lc->api), path,
	                                          &lc->target, &slot_handler, s)
	                     : NULL;
	cJSON_Delete(json);
	if (s->mux == NULL) {
		lc->ws_failed++;
		slot_retry_later(s);
	}
}

static void slot_connect(struct slot *s)
{
	struct lc *lc = s->t->lc;
	char path[128];
	if (lc->stopping)
		return;
	s->state = SLOT_FETCHING;
	snprintf(path, sizeof(path), "/v1/tunnel/%s", s->t->id);
	if (api_client_request(lc->api, "GET", path, s->t->account->token, NULL, slot_got_tunnel,
	                       s) != 0)
		slot_retry_later(s);
}

/* The connect phase: tunnels start at a bounded rate and with bounded parallelism. */
static void connect_more(struct lc *lc)
{
	while (!lc->stopping && lc->connect_next < lc->o.tunnels &&
	       lc->connect_active < lc->o.parallel && (lc->o.rate <= 0 || lc->tokens >= 1)) {
		struct tunnel *t = &lc->tunnels[lc->connect_next++];
		if (lc->o.rate > 0)
			lc->tokens -= 1;
		lc->connect_active++;
		t->connecting = true;
		t->next_slot = 0;
		slot_connect(&t->slots[0]);
	}
}

static void rate_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lc *lc = arg;
	lc->tokens += lc->o.rate * RATE_TICK_MS / 1000.0;
	double burst = lc->o.rate * RATE_TICK_MS / 1000.0 * 2;
	if (lc->tokens > (burst > 1 ? burst : 1))
		lc->tokens = burst > 1 ? burst : 1;
	connect_more(lc);
	if (lc->connect_next >= lc->o.tunnels)
		event_del(lc->rate_tick);
}

static void start_connecting(struct lc *lc)
{
	lc->t_connect_start = monotonic_ms();
	if (lc->o.rate > 0) {
		struct timeval tv = {0, RATE_TICK_MS * 1000};
		lc->tokens = 1;
		event_add(lc->rate_tick, &tv);
	}
	connect_more(lc);
}

/* The create phase: PUT {} then one PATCH per setting, as the client (§2.8 steps 3-4). */

static void all_created(struct lc *lc)
{
	lc->t_create_end = monotonic_ms();
	double create_s = seconds(lc->t_create_start, lc->t_create_end);
	printf("CREATED accounts=%u account_seconds=%.3f tunnels=%u create_seconds=%.3f "
	       "created_per_s=%.1f\n",
	       lc->naccounts, seconds(lc->t_account_start, lc->t_create_start), lc->o.tunnels,
	       create_s, lc->o.tunnels / (create_s > 0 ? create_s : 0.001));
	fflush(stdout);
	if (!lc->o.hold)
		start_connecting(lc);
}

static void create_more(struct lc *lc);

static void create_step(struct tunnel *t);

static void created_step(void *arg, int status, const char *body, size_t len)
{
	(void)len;
	struct tunnel *t = arg;
	struct lc *lc = t->lc;
	if (lc->stopping)
		return;
	if (status != 200) {
		char detail[512];
		snprintf(detail, sizeof(detail), "tunnel %s step %u: status %d %.300s", t->id,
		         t->create_step, status, body);
		fatal(lc, "%s", detail);
		return;
	}
	t->create_step++;
	create_step(t);
}

static void create_step(struct tunnel *t)
{
	struct lc *lc = t->lc;
	char path[128], body[512];
	const char *method = "PATCH";
	snprintf(path, sizeof(path), "/v1/tunnel/%s", t->id);
	switch (t->create_step) {
	case 0:
		method = "PUT";
		snprintf(body, sizeof(body), "{}");
		break;
	case 1:
		snprintf(body, sizeof(body), "{\"target\":{\"url\":\"%s\"}}", lc->o.target_url);
		break;
	case 2:
		snprintf(body, sizeof(body), "{\"ingress\":{\"http\":{\"enabled\":true}%s}}",
		         lc->o.sni ? ",\"sni\":{\"enabled\":true}" : "");
		break;
	case 3:
		snprintf(body, sizeof(body), "{\"transport\":{\"ws\":{\"enabled\":true}}}");
		break;
	default:
		lc->create_active--;
		if (++lc->created == lc->o.tunnels)
			all_created(lc);
		else
			create_more(lc);
		return;
	}
	if (api_client_request(lc->api, method, path, t->account->token, body, created_step, t) !=
	    0)
		fatal(lc, "cannot send an API request for %s", t->id);
}

static void create_more(struct lc *lc)
{
	while (!lc->stopping && lc->create_next < lc->o.tunnels &&
	       lc->create_active < lc->o.parallel) {
		struct tunnel *t = &lc->tunnels[lc->create_next++];
		lc->create_active++;
		create_step(t);
	}
}

/* Accounts: POST /v1/account (unless one was given), then the token (§2.2-2.3). The
 * exposr client registers one account per run unless it is given one; several tunnels
 * may share one with --tunnels-per-account. */

static void account_more(struct lc *lc);

static void account_done(struct account *a)
{
	struct lc *lc = a->lc;
	lc->account_active--;
	if (++lc->accounts_done == lc->naccounts) {
		lc->t_create_start = monotonic_ms();
		create_more(lc);
	} else {
		account_more(lc);
	}
}

static void got_token(void *arg, int status, const char *body, size_t len)
{
	(void)len;
	struct account *a = arg;
	struct lc *lc = a->lc;
	cJSON *json = status == 201 ? cJSON_Parse(body) : NULL;
	cJSON *token = cJSON_GetObjectItemCaseSensitive(json, "token");
	if (!cJSON_IsString(token) || (a->token = strdup(token->valuestring)) == NULL) {
		cJSON_Delete(json);
		fatal(lc, "no API token: %s", status == 0 ? "no response" : body);
		return;
	}
	cJSON_Delete(json);
	account_done(a);
}

static void request_token(struct account *a, const char *account)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/account/%s/token", account);
	if (api_client_request(a->lc->api, "GET", path, NULL, NULL, got_token, a) != 0)
		fatal(a->lc, "cannot request %s", path);
}

static void got_account(void *arg, int status, const char *body, size_t len)
{
	(void)len;
	struct account *a = arg;
	cJSON *json = status == 201 ? cJSON_Parse(body) : NULL;
	cJSON *id = cJSON_GetObjectItemCaseSensitive(json, "account_id_hr");
	if (!cJSON_IsString(id)) {
		cJSON_Delete(json);
		fatal(a->lc, "POST /v1/account failed (is --allow-registration on?): %s",
		      status == 0 ? "no response" : body);
		return;
	}
	request_token(a, id->valuestring);
	cJSON_Delete(json);
}

static void account_more(struct lc *lc)
{
	while (!lc->stopping && lc->account_next < lc->naccounts &&
	       lc->account_active < lc->o.parallel) {
		struct account *a = &lc->accounts[lc->account_next++];
		lc->account_active++;
		if (lc->o.account != NULL)
			request_token(a, lc->o.account);
		else if (api_client_request(lc->api, "POST", "/v1/account", NULL, "{}", got_account,
		                            a) != 0)
			fatal(lc, "cannot send %s", "POST /v1/account");
	}
}

/* timers and signals */

static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lc *lc = arg;
	uint64_t now = monotonic_ms();
	for (unsigned i = 0; i < lc->o.tunnels; i++) {
		struct tunnel *t = &lc->tunnels[i];
		for (unsigned j = 0; j < lc->o.connections; j++)
			if (t->slots[j].state == SLOT_OPEN)
				mux_client_tick(t->slots[j].mux, now);
	}
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lc *lc = arg;
	lc->stopping = true;
	event_base_loopexit(lc->base, NULL);
}

static void on_usr1(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	print_stats(arg, "STATS");
}

static void on_usr2(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct lc *lc = arg;
	if (lc->o.hold && lc->created == lc->o.tunnels && lc->t_connect_start == 0)
		start_connecting(lc);
	lc->o.hold = false;
}

static int parse_addr(const char *s, struct sockaddr_in *sin, char *host, size_t host_len,
                      int *port)
{
	const char *colon = strrchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= host_len)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = atoi(colon + 1);
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)*port);
	if (*port <= 0 || *port > 65535 || inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		return -1;
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: load_client --server HOST:PORT --target HOST:PORT [options]\n"
	        "  --tunnels K          tunnels to create and connect (default 1)\n"
	        "  --connections C      websockets per tunnel (default 2, as the client)\n"
	        "  --prefix P           tunnel ids are P0, P1, ... (default bench)\n"
	        "  --account ID         use this account for every tunnel (no POST /v1/account)\n"
	        "  --tunnels-per-account N  tunnels sharing one registered account (default 1,\n"
	        "                       as the client, which registers one per run)\n"
	        "  --parallel N         tunnels being set up at once (default 64)\n"
	        "  --rate R             tunnels started per second when connecting (default: "
	        "no limit)\n"
	        "  --api-connections N  kept-alive API connections (default 16)\n"
	        "  --duration S         exit after S seconds (default: at SIGTERM/SIGINT)\n"
	        "  --hold               after CREATED, wait for SIGUSR2 before connecting\n"
	        "  --sni                enable the SNI ingress of the tunnels too\n"
	        "  --quiet              no per-connection messages\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static char server_host[256];
	static char target_url[300];
	char target_host[256];
	const char *server = NULL, *target = NULL;
	int target_port;
	*o = (struct options){.tunnels = 1,
	                      .connections = 2,
	                      .parallel = 64,
	                      .api_connections = 16,
	                      .tunnels_per_account = 1,
	                      .prefix = "bench"};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--quiet") == 0) {
			o->quiet = true;
			continue;
		}
		if (strcmp(a, "--hold") == 0) {
			o->hold = true;
			continue;
		}
		if (strcmp(a, "--sni") == 0) {
			o->sni = true;
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		const char *v = argv[++i];
		if (strcmp(a, "--server") == 0)
			server = v;
		else if (strcmp(a, "--target") == 0)
			target = v;
		else if (strcmp(a, "--tunnels") == 0)
			o->tunnels = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--connections") == 0)
			o->connections = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--prefix") == 0)
			o->prefix = v;
		else if (strcmp(a, "--account") == 0)
			o->account = v;
		else if (strcmp(a, "--tunnels-per-account") == 0)
			o->tunnels_per_account = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--parallel") == 0)
			o->parallel = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--rate") == 0)
			o->rate = atof(v);
		else if (strcmp(a, "--api-connections") == 0)
			o->api_connections = (unsigned)strtoul(v, NULL, 10);
		else if (strcmp(a, "--duration") == 0)
			o->duration = atof(v);
		else
			return -1;
	}
	if (server == NULL || target == NULL || o->tunnels == 0 || o->connections == 0 ||
	    o->tunnels_per_account == 0 || o->parallel == 0 || o->api_connections == 0 ||
	    o->api_connections > 1024 || strlen(o->prefix) > 40)
		return -1;
	if (parse_addr(server, &o->server, server_host, sizeof(server_host), &o->server_port) !=
	            0 ||
	    parse_addr(target, &o->target, target_host, sizeof(target_host), &target_port) != 0) {
		fprintf(stderr, "load_client: addresses must be IPv4 HOST:PORT\n");
		return -1;
	}
	o->server_host = server_host;
	snprintf(target_url, sizeof(target_url), "http://%s:%d/", target_host, target_port);
	o->target_url = target_url;
	return 0;
}

static void lc_free(struct lc *lc)
{
	if (lc->tunnels != NULL) {
		for (unsigned i = 0; i < lc->o.tunnels; i++) {
			struct tunnel *t = &lc->tunnels[i];
			if (t->slots == NULL)
				continue;
			for (unsigned j = 0; j < lc->o.connections; j++) {
				mux_client_free(t->slots[j].mux);
				if (t->slots[j].retry != NULL)
					event_free(t->slots[j].retry);
			}
			free(t->slots);
		}
		free(lc->tunnels);
	}
	if (lc->accounts != NULL) {
		for (unsigned i = 0; i < lc->naccounts; i++)
			free(lc->accounts[i].token);
		free(lc->accounts);
	}
	mux_client_cleanup();
	ws_client_shutdown();
	api_client_free(lc->api);
	struct event *events[] = {lc->tick,    lc->rate_tick, lc->sigterm, lc->sigint,
	                          lc->sigusr1, lc->sigusr2,   lc->deadline};
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i] != NULL)
			event_free(events[i]);
	if (lc->base != NULL)
		event_base_free(lc->base);
}

int main(int argc, char **argv)
{
	static struct lc lc;
	if (parse_options(argc, argv, &lc.o) != 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)monotonic_ms());
	memcpy(&lc.server.addr, &lc.o.server, sizeof(lc.o.server));
	lc.server.addr_len = sizeof(lc.o.server);
	memcpy(&lc.target.addr, &lc.o.target, sizeof(lc.o.target));
	lc.target.addr_len = sizeof(lc.o.target);
	lc.base = event_base_new();
	if (lc.base == NULL)
		return 1;
	lc.api = api_client_new(lc.base, lc.o.server_host, lc.o.server_port,
	                        (int)lc.o.api_connections);
	lc.tunnels = calloc(lc.o.tunnels, sizeof(*lc.tunnels));
	lc.naccounts = lc.o.account != NULL ? 1
	                                    : (lc.o.tunnels + lc.o.tunnels_per_account - 1) /
	                                              lc.o.tunnels_per_account;
	lc.accounts = calloc(lc.naccounts, sizeof(*lc.accounts));
	if (lc.api == NULL || lc.tunnels == NULL || lc.accounts == NULL)
		goto oom;
	for (unsigned i = 0; i < lc.naccounts; i++)
		lc.accounts[i].lc = &lc;
	for (unsigned i = 0; i < lc.o.tunnels; i++) {
		struct tunnel *t = &lc.tunnels[i];
		t->lc = &lc;
		t->account = &lc.accounts[lc.o.account != NULL ? 0 : i / lc.o.tunnels_per_account];
		t->index = i;
		/* Ids need at least 4 characters (docs/api.md §1.1): short ones get zeros. */
		char num[16];
		snprintf(num, sizeof(num), "%u", i);
		size_t len = strlen(lc.o.prefix) + strlen(num);
		int pad = len < 4 ? (int)(4 - len) : 0;
		snprintf(t->id, sizeof(t->id), "%s%.*s%s", lc.o.prefix, pad, "0000", num);
		t->slots = calloc(lc.o.connections, sizeof(*t->slots));
		if (t->slots == NULL)
			goto oom;
		for (unsigned j = 0; j < lc.o.connections; j++) {
			struct slot *s = &t->slots[j];
			s->t = t;
			s->index = j;
			s->retry_delay = RETRY_FIRST_MS;
			s->retry = evtimer_new(lc.base, slot_retry_fired, s);
			if (s->retry == NULL)
				goto oom;
		}
	}
	lc.tick = event_new(lc.base, -1, EV_PERSIST, tick, &lc);
	lc.rate_tick = event_new(lc.base, -1, EV_PERSIST, rate_tick, &lc);
	lc.sigterm = evsignal_new(lc.base, SIGTERM, on_stop, &lc);
	lc.sigint = evsignal_new(lc.base, SIGINT, on_stop, &lc);
	lc.sigusr1 = evsignal_new(lc.base, SIGUSR1, on_usr1, &lc);
	lc.sigusr2 = evsignal_new(lc.base, SIGUSR2, on_usr2, &lc);
	lc.deadline = evtimer_new(lc.base, on_stop, &lc);
	if (lc.tick == NULL || lc.rate_tick == NULL || lc.sigterm == NULL || lc.sigint == NULL ||
	    lc.sigusr1 == NULL || lc.sigusr2 == NULL || lc.deadline == NULL)
		goto oom;
	struct timeval tick_tv = {TICK_MS / 1000, (TICK_MS % 1000) * 1000};
	event_add(lc.tick, &tick_tv);
	event_add(lc.sigterm, NULL);
	event_add(lc.sigint, NULL);
	event_add(lc.sigusr1, NULL);
	event_add(lc.sigusr2, NULL);
	if (lc.o.duration > 0) {
		struct timeval tv = {
		        (time_t)lc.o.duration,
		        (suseconds_t)((lc.o.duration - (double)(time_t)lc.o.duration) * 1e6)};
		event_add(lc.deadline, &tv);
	}
	lc.t_account_start = monotonic_ms();
	account_more(&lc);
	event_base_dispatch(lc.base);
	print_stats(&lc, "STATS");
	int rc = lc.ready ? 0 : 1;
	lc_free(&lc);
	return rc;
oom:
	fprintf(stderr, "load_client: out of memory\n");
	lc_free(&lc);
	return 1;
}

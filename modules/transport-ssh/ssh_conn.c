/* One SSH connection: the libssh session on the event loop, message dispatch,
 * authentication (docs/ssh.md §7.2), keep-alives and teardown. */
#include "ssh_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "forward_req.h"
#include "monotonic.h"
#include "timeval_ms.h"

/* OpenSSH gives up after 6 failures by default; a client that keeps trying is guessing. */
#define SSH_MAX_AUTH_ATTEMPTS 10
#define SSH_KEEPALIVE_MISSES  3

void ssh_conn_kick(struct ssh_conn *c)
{
	event_active(c->defer, 0, 0);
}

static void conn_free(struct ssh_conn *c)
{
	struct ssh_module *sm = c->sm;
	LIST_REMOVE(c, link);
	sess_chan_free_all(c);
	if (c->rd != NULL)
		event_free(c->rd);
	if (c->wr != NULL)
		event_free(c->wr);
	if (c->defer != NULL)
		event_free(c->defer);
	if (c->keepalive != NULL)
		event_free(c->keepalive);
	ssh_free(c->session); /* closes the socket if still open */
	free(c);
	sm->host->metrics->add(sm->conns_open, -1);
	ssh_module_check_drained(sm);
}

void ssh_conn_close(struct ssh_conn *c, const char *why)
{
	if (c->phase == CONN_CLOSED)
		return;
	bool was_open = c->phase == CONN_OPEN;
	c->phase = CONN_CLOSED;
	ssh_log(c->sm, was_open ? EXPOSR_LOG_INFO : EXPOSR_LOG_DEBUG,
	        "tunnel %s: SSH connection from %s closed: %s",
	        c->tunnel_id[0] != '\0' ? c->tunnel_id : "-", c->peer, why);
	if (c->reg != NULL) {
		/* Fails the opens the service still waits for (through fwd_chan_cancel). */
		struct exposr_tunnel_conn *reg = c->reg;
		c->reg = NULL;
		c->sm->host->tunnels->connection_remove(reg);
	}
	/* ssh_disconnect() frees the session's channels. */
	fwd_chan_detach_all(c);
	sess_chan_detach_all(c);
	event_del(c->rd);
	event_del(c->wr);
	event_del(c->keepalive);
	/* OpenSSH prints it: "Received disconnect from ...: 11: <why>". */
	ssh_session_set_disconnect_message(c->session, why);
	ssh_disconnect(c->session);
	ssh_conn_kick(c); /* frees it once no answer is outstanding */
}

/* Watches for writability while libssh holds unsent bytes. */
static void arm_write(struct ssh_conn *c)
{
	if (ssh_get_poll_flags(c->session) & SSH_WRITE_PENDING)
		event_add(c->wr, NULL);
	else
		event_del(c->wr);
}

static void refuse_auth(ssh_message msg)
{
	/* The list OpenSSH shows and continues with (docs/ssh.md §7.2, C server). */
	ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_PASSWORD);
	ssh_message_reply_default(msg);
}

struct auth_req {
	struct ssh_conn *c;
	ssh_message msg;
};

static void start_keepalive(struct ssh_conn *c);

static void on_authorized(void *arg, int status, const char *account_id)
{
	(void)account_id;
	struct auth_req *a = arg;
	struct ssh_conn *c = a->c;
	ssh_message msg = a->msg;
	free(a);
	c->pending--;
	c->auth_pending = false;
	if (c->phase != CONN_AUTH) {
		ssh_message_free(msg);
		ssh_conn_kick(c);
		return;
	}
	if (status != EXPOSR_OK) {
		ssh_log(c->sm, EXPOSR_LOG_DEBUG, "tunnel %s: SSH authentication from %s refused",
		        c->tunnel_id, c->peer);
		refuse_auth(msg);
		ssh_message_free(msg);
		c->tunnel_id[0] = '\0';
		ssh_conn_kick(c);
		return;
	}
	const struct exposr_host *host = c->sm->host;
	if (!c->sm->stopping && host->server_state() != EXPOSR_SERVER_STOPPING)
		c->reg = host->tunnels->connection_add(c->tunnel_id, c->peer, &ssh_conn_vt, c);
	if (c->reg == NULL) {
		ssh_message_free(msg);
		ssh_conn_close(c, "unable to establish tunnel: it has its maximum of connections");
		return;
	}
	c->phase = CONN_OPEN;
	ssh_message_auth_reply_success(msg, 0);
	ssh_message_free(msg);
	ssh_log(c->sm, EXPOSR_LOG_INFO, "tunnel %s: SSH transport connection from %s", c->tunnel_id,
	        c->peer);
	start_keepalive(c);
	ssh_conn_kick(c);
}

/* Every request is evaluated: `id:token` as the user name with any method, or the
 * tunnel id as user name with the token as password. */
static void on_auth(struct ssh_conn *c, ssh_message msg)
{
	if (c->phase != CONN_AUTH || c->auth_pending) {
		refuse_auth(msg);
		ssh_message_free(msg);
		return;
	}
	if (++c->auth_attempts > SSH_MAX_AUTH_ATTEMPTS) {
		ssh_message_free(msg);
		ssh_conn_close(c, "too many authentication attempts");
		return;
	}
	const char *user = ssh_message_auth_user(msg);
	const char *colon = user != NULL ? strchr(user, ':') : NULL;
	const char *token = NULL;
	size_t id_len = 0;
	if (colon != NULL) {
		id_len = (size_t)(colon - user);
		token = colon + 1;
	} else if (user != NULL && ssh_message_subtype(msg) == SSH_AUTH_METHOD_PASSWORD) {
		id_len = strlen(user);
/* Deprecated in favour of synchronous callbacks; the answer here comes later. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
		token = ssh_message_auth_password(msg);
#pragma GCC diagnostic pop
	}
	if (token == NULL || id_len == 0 || id_len >= sizeof(c->tunnel_id)) {
		refuse_auth(msg);
		ssh_message_free(msg);
		return;
	}
	struct auth_req *a = malloc(sizeof(*a));
	if (a == NULL) {
		refuse_auth(msg);
		ssh_message_free(msg);
		return;
	}
	a->c = c;
	a->msg = msg;
	memcpy(c->tunnel_id, user, id_len);
	c->tunnel_id[id_len] = '\0';
	c->pending++;
	c->auth_pending = true;
	/* The service rotates the token before it answers (docs/api.md §1.4). */
	c->sm->host->tunnels->authorize(c->tunnel_id, token, on_authorized, a);
}

static void on_service(struct ssh_conn *c, ssh_message msg)
{
	const char *service = ssh_message_service_service(msg);
	if (service == NULL || strcmp(service, "ssh-userauth") != 0) {
		ssh_message_reply_default(msg);
		return;
	}
	ssh_message_service_reply_success(msg);
	/* Right after the service is accepted, before any authentication answer. */
	char text[64];
	snprintf(text, sizeof(text), "exposr/%s", c->sm->host->server_version);
	ssh_string banner = ssh_string_from_char(text);
	if (banner != NULL) {
		ssh_send_issue_banner(c->session, banner);
		ssh_string_free(banner);
	}
}

static void handle_message(struct ssh_conn *c, ssh_message msg)
{
	int sub = ssh_message_subtype(msg);
	switch (ssh_message_type(msg)) {
	case SSH_REQUEST_SERVICE:
		on_service(c, msg);
		break;
	case SSH_REQUEST_AUTH:
		on_auth(c, msg);
		return; /* it owns the message */
	case SSH_REQUEST_CHANNEL_OPEN:
		if (sub == SSH_CHANNEL_SESSION && c->phase == CONN_OPEN) {
			sess_chan_open(c, msg);
			break;
		}
		ssh_message_reply_default(msg);
		break;
	case SSH_REQUEST_CHANNEL:
		if (!sess_chan_request(c, msg))
			ssh_message_reply_default(msg);
		break;
	case SSH_REQUEST_GLOBAL:
		if (sub == SSH_GLOBAL_REQUEST_TCPIP_FORWARD && c->phase == CONN_OPEN) {
			forward_request(c, msg);
			return; /* it owns the message */
		}
		ssh_message_reply_default(msg);
		break;
	default:
		ssh_message_reply_default(msg);
		break;
	}
	ssh_message_free(msg);
}

/* Reads what arrived, handles the messages, moves the channels on. */
static void conn_service(struct ssh_conn *c)
{
	if (c->phase == CONN_KEX) {
		int rc = ssh_handle_key_exchange(c->session);
		if (rc == SSH_AGAIN) {
			arm_write(c);
			return;
		}
		if (rc != SSH_OK) {
			ssh_conn_close(c, ssh_get_error(c->session));
			return;
		}
		c->phase = CONN_AUTH;
	}
	/* Twice at most: the second round handles messages that libssh read while waiting
	 * for channel opens, which no readable event would announce. */
	bool again = true;
	for (int round = 0; round < 2 && again; round++) {
		ssh_message msg;
		while (c->phase != CONN_CLOSED && (msg = ssh_message_get(c->session)) != NULL)
			handle_message(c, msg);
		if (c->phase == CONN_CLOSED)
			return;
		if (c->close_requested) {
			ssh_conn_close(c, "ended by the client's session");
			return;
		}
		if (ssh_get_status(c->session) & (SSH_CLOSED | SSH_CLOSED_ERROR)) {
			ssh_conn_close(c, "the client went away");
			return;
		}
		again = fwd_chan_pump_all(c);
	}
	arm_write(c);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ssh_conn *c = arg;
	c->last_rx_ms = monotonic_ms();
	conn_service(c);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ssh_conn *c = arg;
	if (c->phase != CONN_KEX)
		ssh_blocking_flush(c->session, 0);
	conn_service(c);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ssh_conn *c = arg;
	if (c->phase == CONN_CLOSED) {
		if (c->pending == 0)
			conn_free(c);
		return;
	}
	conn_service(c);
}

/* Before authentication: a client gets login-timeout to authenticate, so that idle
 * sockets cannot hold connections for ever. After it: keepalive@openssh.com every
 * interval; the client answers, so silence for three intervals means it is gone
 * (docs/ssh.md §7.2). */
static void on_keepalive(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct ssh_conn *c = arg;
	if (c->phase != CONN_OPEN) {
		if (monotonic_ms() - c->accepted_ms >= (uint64_t)c->sm->login_timeout_ms)
			ssh_conn_close(c, "not authenticated in time");
		return;
	}
	if (c->socket_counter.in_bytes != c->rx_bytes_seen) {
		c->rx_bytes_seen = c->socket_counter.in_bytes;
		c->last_rx_ms = monotonic_ms();
	}
	uint64_t quiet = monotonic_ms() - c->last_rx_ms;
	if (quiet >= (uint64_t)c->sm->keepalive_ms * SSH_KEEPALIVE_MISSES) {
		ssh_conn_close(c, "keep-alive timeout");
		return;
	}
	/* libssh keeps the state of the last request: a call that only collects the
	 * previous answer sends nothing, so a second call sends the new one. */
	if (ssh_send_keepalive(c->session) != SSH_AGAIN)
		ssh_send_keepalive(c->session);
	conn_service(c);
}

/* One timer: the login deadline first, then the keep-alive interval. */
static int arm_timer(struct ssh_conn *c, long ms)
{
	struct timeval tv = timeval_from_ms((uint64_t)ms);
	event_del(c->keepalive);
	return event_add(c->keepalive, &tv);
}

static void start_keepalive(struct ssh_conn *c)
{
	if (arm_timer(c, c->sm->keepalive_ms) != 0)
		ssh_log(c->sm, EXPOSR_LOG_ERROR, "tunnel %s: cannot arm the keep-alive",
		        c->tunnel_id);
}

/* exposr_transport_conn_vtable */

static void *conn_open_channel_from(void *conn, const struct exposr_origin *origin,
                                    exposr_channel_cb cb, void *arg)
{
	struct ssh_conn *c = conn;
	if (c->phase != CONN_OPEN) {
		cb(arg, EXPOSR_ERROR, NULL);
		return NULL;
	}
	return fwd_chan_open(c, origin, cb, arg);
}

static void *conn_open_channel(void *conn, exposr_channel_cb cb, void *arg)
{
	return conn_open_channel_from(conn, NULL, cb, arg);
}

static void conn_cancel_open(void *conn, void *token)
{
	fwd_chan_cancel(conn, token);
}

static void conn_disconnect(void *conn, enum exposr_disconnect_reason reason)
{
	static const char *const why[] = {
	        [EXPOSR_DISCONNECT_REQUESTED] = "disconnected through the API",
	        [EXPOSR_DISCONNECT_REVOKED] = "tunnel access revoked",
	        [EXPOSR_DISCONNECT_SHUTDOWN] = "server shutting down",
	};
	ssh_conn_close(conn, (unsigned)reason < 3 ? why[reason] : "disconnected");
}

const struct exposr_transport_conn_vtable ssh_conn_vt = {
        .size = sizeof(struct exposr_transport_conn_vtable),
        .open_channel = conn_open_channel,
        .cancel_open = conn_cancel_open,
        .disconnect = conn_disconnect,
        .open_channel_from = conn_open_channel_from,
};

void ssh_conn_accept(struct ssh_module *sm, evutil_socket_t fd, const char *peer)
{
	struct event_base *base = sm->host->event_base();
	struct ssh_conn *c = calloc(1, sizeof(*c));
	ssh_session session = c != NULL ? ssh_new() : NULL;
	if (session == NULL || ssh_bind_accept_fd(sm->bind, session, fd) != SSH_OK) {
		ssh_log(sm, EXPOSR_LOG_ERROR, "cannot set up an SSH session for %s: %s", peer,
		        session != NULL ? ssh_get_error(sm->bind) : "out of memory");
		if (session != NULL)
			ssh_free(session);
		free(c);
		close(fd);
		return;
	}
	ssh_set_blocking(session, 0);
	ssh_set_counters(session, &c->socket_counter, NULL);
	c->sm = sm;
	c->session = session;
	c->phase = CONN_KEX;
	c->last_rx_ms = c->accepted_ms = monotonic_ms();
	snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->rd = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, c);
	c->wr = event_new(base, fd, EV_WRITE, on_writable, c);
	c->defer = event_new(base, -1, 0, on_deferred, c);
	c->keepalive = event_new(base, -1, EV_PERSIST, on_keepalive, c);
	LIST_INSERT_HEAD(&sm->conns, c, link);
	sm->host->metrics->add(sm->conns_open, 1);
	if (c->rd == NULL || c->wr == NULL || c->defer == NULL || c->keepalive == NULL ||
	    event_add(c->rd, NULL) != 0 || arm_timer(c, sm->login_timeout_ms) != 0) {
		ssh_log(sm, EXPOSR_LOG_ERROR, "cannot watch the SSH connection from %s", peer);
		conn_free(c);
		return;
	}
	/* Sends our identification; the rest follows as the client answers. */
	conn_service(c);
}

void ssh_conns_close_all(struct ssh_module *sm)
{
	struct ssh_conn *c;
	LIST_FOREACH(c, &sm->conns, link)
	ssh_conn_close(c, "server shutting down");
}

void ssh_conns_free_all(struct ssh_module *sm)
{
	while (!LIST_EMPTY(&sm->conns)) {
		struct ssh_conn *c = LIST_FIRST(&sm->conns);
		if (c->phase != CONN_CLOSED)
			ssh_conn_close(c, "server stopped");
		conn_free(c);
	}
}

/* `session` channels (docs/ssh.md §7.5): a shell that prints the tunnel's URLs; Ctrl-C
 * or the end of its input disconnects. Nothing runs: exec, subsystem, env, x11 and
 * agent forwarding are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <libssh/callbacks.h>

#include <common/tunnel_object.h>

#include "ssh_conn.h"

/* A client asking for more than a handful of sessions on one connection wants
 * something else than a tunnel. */
#define SSH_MAX_SESSIONS 8
#define CTRL_C           0x03

struct sess_chan {
	struct ssh_conn *c;
	SLIST_ENTRY(sess_chan) link;
	ssh_channel ch;
	struct ssh_channel_callbacks_struct cbs;
};

/* libssh calls these from inside its packet handling: they only flag the connection. */
static int on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
                   int is_stderr, void *userdata)
{
	(void)session;
	(void)channel;
	(void)is_stderr;
	struct sess_chan *s = userdata;
	if (len > 0 && ((const unsigned char *)data)[0] == CTRL_C) {
		s->c->close_requested = true;
		ssh_conn_kick(s->c);
	}
	return (int)len;
}

static void on_eof(ssh_session session, ssh_channel channel, void *userdata)
{
	(void)session;
	(void)channel;
	struct sess_chan *s = userdata;
	s->c->close_requested = true;
	ssh_conn_kick(s->c);
}

static void on_close(ssh_session session, ssh_channel channel, void *userdata)
{
	on_eof(session, channel, userdata);
}

void sess_chan_open(struct ssh_conn *c, ssh_message msg)
{
	if (c->nsessions >= SSH_MAX_SESSIONS) {
		ssh_message_reply_default(msg);
		return;
	}
	struct sess_chan *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		ssh_message_reply_default(msg);
		return;
	}
	s->ch = ssh_message_channel_request_open_reply_accept(msg);
	if (s->ch == NULL) {
		free(s);
		return;
	}
	s->c = c;
	s->cbs.size = sizeof(s->cbs);
	s->cbs.userdata = s;
	s->cbs.channel_data_function = on_data;
	s->cbs.channel_eof_function = on_eof;
	s->cbs.channel_close_function = on_close;
	ssh_callbacks_init(&s->cbs);
	ssh_set_channel_callbacks(s->ch, &s->cbs);
	SLIST_INSERT_HEAD(&c->sessions, s, link);
	c->nsessions++;
}

static void write_line(struct sess_chan *s, const char *label, const char *value)
{
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s: %s\r\n", label, value != NULL ? value : "");
	if (n > 0 && (size_t)n < sizeof(line))
		ssh_channel_write(s->ch, line, (uint32_t)n);
}

static void on_record(void *arg, int status, const cJSON *record)
{
	struct sess_chan *s = arg;
	struct ssh_conn *c = s->c;
	c->pending--;
	if (c->phase == CONN_OPEN && status == EXPOSR_OK) {
		write_line(s, "Target URL", record_string(record, "target.url"));
		if (record_bool(record, "ingress.http.enabled"))
			write_line(s, "HTTP ingress", record_string(record, "ingress.http.url"));
		if (record_bool(record, "ingress.sni.enabled"))
			write_line(s, "SNI ingress", record_string(record, "ingress.sni.url"));
	}
	ssh_conn_kick(c);
}

bool sess_chan_request(struct ssh_conn *c, ssh_message msg)
{
	ssh_channel ch = ssh_message_channel_request_channel(msg);
	struct sess_chan *s;
	SLIST_FOREACH(s, &c->sessions, link)
	if (s->ch == ch)
		break;
	if (s == NULL)
		return false;
	switch (ssh_message_subtype(msg)) {
	case SSH_CHANNEL_REQUEST_PTY:
	case SSH_CHANNEL_REQUEST_WINDOW_CHANGE:
		ssh_message_channel_request_reply_success(msg);
		break;
	case SSH_CHANNEL_REQUEST_SHELL:
		ssh_message_channel_request_reply_success(msg);
		c->pending++;
		c->sm->host->tunnels->get(c->tunnel_id, on_record, s);
		break;
	default:
		ssh_log(c->sm, EXPOSR_LOG_DEBUG, "tunnel %s: channel request %d refused",
		        c->tunnel_id, ssh_message_subtype(msg));
		ssh_message_reply_default(msg);
		break;
	}
	return true;
}

void sess_chan_detach_all(struct ssh_conn *c)
{
	struct sess_chan *s;
	SLIST_FOREACH(s, &c->sessions, link)
	{
		if (s->ch != NULL)
			ssh_remove_channel_callbacks(s->ch, &s->cbs);
		s->ch = NULL;
	}
}

void sess_chan_free_all(struct ssh_conn *c)
{
	while (!SLIST_EMPTY(&c->sessions)) {
		struct sess_chan *s = SLIST_FIRST(&c->sessions);
		SLIST_REMOVE_HEAD(&c->sessions, link);
		free(s);
	}
	c->nsessions = 0;
}

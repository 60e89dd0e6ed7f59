/* exposr: the command-line client of exposrd (and of any exposr server speaking the API
 * and multiplex v2 of exposrd 0.12). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "args.h"
#include "client_log.h"
#include "command.h"
#include "connect.h"
#include "server_api.h"
#include "session.h"

static int need_account(const struct args *a)
{
	if (a->account != NULL)
		return 0;
	log_msg(LOG_ERROR, "No account was provided (-a ACCOUNT or EXPOSR_ACCOUNT)");
	return -1;
}

static int account_create(struct api *api)
{
	char account[ACCOUNT_MAX], err[600];
	if (session_register(api, account, err, sizeof(err)) != 0) {
		log_msg(LOG_ERROR, "%s", err);
		return 1;
	}
	log_msg(LOG_INFO, "Created account %s", account);
	printf("%s\n", account);
	return 0;
}

static void print_row(const char *name, const char *value)
{
	printf("%-15s %s\n", name, value != NULL ? value : "-");
}

static void print_tunnel(const cJSON *t)
{
	char buf[64];
	print_row("Tunnel:", session_string(t, "id", NULL));
	print_row("Target:", session_string(t, "target", "url", NULL));
	print_row("Ingress HTTP:", session_bool(t, "ingress", "http", "enabled", NULL)
	                                   ? session_string(t, "ingress", "http", "url", NULL)
	                                   : "disabled");
	const cJSON *alt = cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(t, "ingress"),
	                                         "http"),
	        "alt_names");
	if (cJSON_GetArraySize(alt) > 0) {
		const cJSON *name;
		cJSON_ArrayForEach(name, alt)
		{
			if (cJSON_IsString(name))
				print_row("Alt-name:", name->valuestring);
		}
	}
	print_row("Ingress SNI:", session_bool(t, "ingress", "sni", "enabled", NULL)
	                                  ? session_string(t, "ingress", "sni", "url", NULL)
	                                  : "disabled");
	print_row("Transport WS:",
	          session_bool(t, "transport", "ws", "enabled", NULL) ? "enabled" : "disabled");
	snprintf(buf, sizeof(buf), "%s (%d connection%s)",
	         session_bool(t, "connection", "connected", NULL) ? "yes" : "no",
	         (int)session_number(t, 0, "connection", "connections", NULL),
	         (int)session_number(t, 0, "connection", "connections", NULL) == 1 ? "" : "s");
	print_row("Connected:", buf);
	print_row("Created:", session_string(t, "created_at", NULL));
}

static int tunnel_command(struct api *api, const struct args *a, const struct command *c)
{
	char err[600], id[TUNNEL_ID_MAX + 1] = "", path[128];
	if (need_account(a) != 0 || session_login(api, a->account, err, sizeof(err)) != 0)
		goto fail;
	if (c->id != NULL)
		snprintf(id, sizeof(id), "%s", c->id);
	snprintf(path, sizeof(path), "v1/tunnel/%s", id);
	struct api_result r = {0};
	int rc = 0;
	switch (c->kind) {
	case CMD_TUNNEL_CREATE:
		if (session_create(api, id, err, sizeof(err)) != 0 ||
		    session_configure(api, id, c, err, sizeof(err)) != 0)
			goto fail;
		log_msg(LOG_INFO, "Created tunnel %s", id);
		printf("%s\n", id);
		return 0;
	case CMD_TUNNEL_CONFIGURE:
		if (session_configure(api, id, c, err, sizeof(err)) != 0)
			goto fail;
		log_msg(LOG_INFO, "Tunnel %s configured", id);
		return 0;
	case CMD_TUNNEL_INFO: {
		cJSON *t = session_tunnel(api, id, NULL, 0, err, sizeof(err));
		if (t == NULL)
			goto fail;
		print_tunnel(t);
		cJSON_Delete(t);
		return 0;
	}
	case CMD_TUNNEL_DISCONNECT:
		strcat(path, "/disconnect");
		rc = api_call(api, "POST", path, "{}", &r);
		if (rc == 0 && r.status == 200 && session_bool(r.json, "result", NULL))
			log_msg(LOG_INFO, "Tunnel %s disconnected", id);
		else if (rc == 0 && r.status == 200)
			snprintf(r.msg, sizeof(r.msg), "Tunnel %s could not be disconnected", id);
		break;
	case CMD_TUNNEL_DELETE:
		rc = api_call(api, "DELETE", path, NULL, &r);
		if (rc == 0 && r.status == 204)
			log_msg(LOG_INFO, "Tunnel %s deleted", id);
		break;
	default:
		break;
	}
	bool ok = rc == 0 && r.status >= 200 && r.status <= 299 && r.msg[0] == '\0';
	if (!ok)
		log_msg(LOG_ERROR, "%s", r.msg);
	api_result_clear(&r);
	return ok ? 0 : 1;
fail:
	log_msg(LOG_ERROR, "%s", err);
	return 1;
}

static int run(const struct args *a, const struct command *c)
{
	struct event_base *base = event_base_new();
	if (base == NULL) {
		log_msg(LOG_ERROR, "cannot create the event loop");
		return 1;
	}
	int rc = 1;
	if (c->kind == CMD_TUNNEL_CONNECT) {
		rc = connect_run(base, a, c);
	} else {
		char err[600];
		struct api *api = api_new(base, a->server, err, sizeof(err));
		if (api == NULL)
			log_msg(LOG_ERROR, "%s", err);
		else if (c->kind == CMD_ACCOUNT_CREATE)
			rc = account_create(api);
		else
			rc = tunnel_command(api, a, c);
		api_free(api);
	}
	event_base_free(base);
	return rc;
}

int main(int argc, char **argv)
{
	struct args a;
	struct command c;
	char err[600];
	log_setup(LOG_INFO, false);
	if (args_parse(argc, argv, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "exposr: %s\n\n%s", err, args_usage);
		return 2;
	}
	if (a.help) {
		fputs(args_usage, stdout);
		return 0;
	}
	if (a.version) {
		printf("exposr %s\n", EXPOSR_CLIENT_VERSION);
		return 0;
	}
	if (command_parse(a.npos, a.pos, &c, err, sizeof(err)) != 0) {
		command_free(&c);
		fprintf(stderr, "exposr: %s\n", err);
		return 2;
	}
	/* A dead target or server must not kill the process with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	log_setup((enum log_level)a.log_level, !a.non_interactive && isatty(STDERR_FILENO));
	int rc = run(&a, &c);
	command_free(&c);
	return rc;
}

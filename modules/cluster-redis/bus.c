/* The bus over the two links: PUBLISH on one, SUBSCRIBE exposr on the other, received
 * messages handed to the core, one log line when Redis is lost and one when it is back. */
#include <string.h>

#include "bus.h"
#include "redis_auth.h"

static bool both_up(const struct redis_bus *bus)
{
	return bus->pub.link.state == REDIS_LINK_UP && bus->sub.link.state == REDIS_LINK_UP;
}

void bus_link_changed(struct redis_bus *bus)
{
	const struct exposr_host *host = bus->host;
	bool down =
	        bus->pub.link.state == REDIS_LINK_DOWN || bus->sub.link.state == REDIS_LINK_DOWN;
	if (down && !bus->lost_logged) {
		host->log(bus->mod, EXPOSR_LOG_WARN,
		          "lost connection to %s; cluster messages are not exchanged until it is "
		          "back (reconnecting)",
		          bus->url.display);
		bus->lost_logged = true;
	} else if (both_up(bus) && bus->lost_logged) {
		host->log(bus->mod, EXPOSR_LOG_INFO, "connection to %s restored", bus->url.display);
		bus->lost_logged = false;
	}
}

/* A refused handshake step (a wrong password) is worth a warning: retries will not fix
 * it. The connection is given up and tried again with back-off. */
static bool refused(struct bus_link *l, redisAsyncContext *ac, const redisReply *reply,
                    const char *step)
{
	if (reply->type != REDIS_REPLY_ERROR)
		return false;
	l->bus->host->log(l->bus->mod, EXPOSR_LOG_WARN, "%s: %s refused: %s", l->bus->url.display,
	                  step, reply->str);
	redis_link_lost(&l->link, ac, "handshake refused");
	/* Inside a reply callback hiredis frees it once the callback returns. */
	redisAsyncFree(ac);
	return true;
}

static void on_auth(redisAsyncContext *ac, void *reply_, void *privdata)
{
	(void)privdata;
	struct bus_link *l = redis_link_owner(ac);
	if (reply_ == NULL) {
		redis_link_lost(&l->link, ac, "connection closed");
		return;
	}
	if (ac == l->link.ac)
		refused(l, ac, reply_, "AUTH");
}

static void on_ping(redisAsyncContext *ac, void *reply_, void *privdata)
{
	(void)privdata;
	struct bus_link *l = redis_link_owner(ac);
	if (reply_ == NULL) {
		redis_link_lost(&l->link, ac, "connection closed");
		return;
	}
	if (ac == l->link.ac && !refused(l, ac, reply_, "PING"))
		redis_link_up(&l->link);
}

static bool element_is(const redisReply *r, size_t i, const char *text)
{
	return i < r->elements && r->element[i]->type == REDIS_REPLY_STRING &&
	       strcmp(r->element[i]->str, text) == 0;
}

/* The subscription's confirmation, then one call per message, for as long as it lasts. */
static void on_subscription(redisAsyncContext *ac, void *reply_, void *privdata)
{
	(void)privdata;
	struct bus_link *l = redis_link_owner(ac);
	redisReply *reply = reply_;
	if (reply == NULL) {
		redis_link_lost(&l->link, ac, "connection closed");
		return;
	}
	if (ac != l->link.ac || refused(l, ac, reply, "SUBSCRIBE") ||
	    reply->type != REDIS_REPLY_ARRAY)
		return;
	if (element_is(reply, 0, "subscribe")) {
		redis_link_up(&l->link);
	} else if (element_is(reply, 0, "message") && reply->elements == 3 &&
	           reply->element[2]->type == REDIS_REPLY_STRING) {
		l->bus->host->cluster->deliver(reply->element[2]->str, reply->element[2]->len);
	}
}

int bus_send_handshake(struct bus_link *l, redisAsyncContext *ac)
{
	/* Pub/sub ignores the database number: no SELECT. */
	if (redis_auth_queue(&l->bus->url, ac, on_auth, false) != 0)
		return EXPOSR_ERROR;
	if (l->role == LINK_SUBSCRIBE) {
		const char *sub[] = {"SUBSCRIBE", BUS_CHANNEL};
		size_t sub_lens[] = {9, strlen(BUS_CHANNEL)};
		return redisAsyncCommandArgv(ac, on_subscription, NULL, 2, sub, sub_lens) ==
		                       REDIS_OK
		               ? EXPOSR_OK
		               : EXPOSR_ERROR;
	}
	const char *ping[] = {"PING"};
	size_t ping_lens[] = {4};
	return redisAsyncCommandArgv(ac, on_ping, NULL, 1, ping, ping_lens) == REDIS_OK
	               ? EXPOSR_OK
	               : EXPOSR_ERROR;
}

static void on_published(redisAsyncContext *ac, void *reply_, void *privdata)
{
	(void)privdata;
	struct bus_link *l = redis_link_owner(ac);
	redisReply *reply = reply_;
	if (reply == NULL) {
		redis_link_lost(&l->link, ac, "connection closed");
		return;
	}
	if (reply->type == REDIS_REPLY_ERROR)
		l->bus->host->log(l->bus->mod, EXPOSR_LOG_DEBUG, "PUBLISH refused: %s", reply->str);
}

int bus_publish(void *self, const char *text, size_t len)
{
	struct redis_bus *bus = self;
	struct bus_link *l = &bus->pub;
	/* While the handshake runs, the command is pipelined behind it. */
	if (l->link.ac == NULL ||
	    (l->link.state != REDIS_LINK_UP && l->link.state != REDIS_LINK_OPENING))
		return EXPOSR_ERROR;
	const char *argv[] = {"PUBLISH", BUS_CHANNEL, text};
	size_t lens[] = {7, strlen(BUS_CHANNEL), len};
	return redisAsyncCommandArgv(l->link.ac, on_published, NULL, 3, argv, lens) == REDIS_OK
	               ? EXPOSR_OK
	               : EXPOSR_ERROR;
}

/* The websocket endpoint on the shared HTTP listener: matches upgrade requests for
 * /v1/tunnel/<id>/ws-endpoint, authorises the token and answers 101 or a JSON refusal. */
#ifndef EXPOSR_WS_ENDPOINT_H
#define EXPOSR_WS_ENDPOINT_H

#include "ws_module.h"

/* Registers the route (priority 50: after the HTTP ingress, before the API). */
int ws_endpoint_register(struct ws_module *wm);
/* Answers every handshake still waiting for authorisation (module fini). */
void ws_endpoint_abort_all(struct ws_module *wm);

#endif

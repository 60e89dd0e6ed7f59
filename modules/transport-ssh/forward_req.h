/* The `tcpip-forward` global request of an authorised connection (docs/ssh.md §7.3). */
#ifndef EXPOSR_SSH_FORWARD_REQ_H
#define EXPOSR_SSH_FORWARD_REQ_H

#include "ssh_conn.h"

/* Takes `msg`: updates the target when the request names one, registers the forward
 * and answers with the allocated port, or refuses. */
void forward_request(struct ssh_conn *c, ssh_message msg);

#endif

#!/bin/sh
# The container's entrypoint: `docker run IMAGE [--option ...]` runs exposrd with those
# options; EXPOSR_* variables reach it through the environment. Anything else that is
# not an option is run as a command (`docker run -ti IMAGE sh`, or the client:
# `docker run --rm -ti --network host IMAGE exposr -s URL tunnel connect ...`).
set -e
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ]; then
	set -- /usr/sbin/exposrd "$@"
fi
exec "$@"

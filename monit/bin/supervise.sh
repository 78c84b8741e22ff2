#!/bin/sh
# Monit as a container's main process (started by tini, which reaps orphans and forwards signals).
# Monit runs in the foreground and keeps the container's programs alive. On SIGTERM or SIGINT
# (`docker compose stop`), Monit quits first so that it restarts nothing, then every stop program
# of the control file runs, as `make down` does natively. The named log files are followed on
# standard output, so `docker compose logs` shows them.
# usage: supervise.sh MONITRC [LOGFILE...]
set -u
rc=$1
shift
follower=
if [ "$#" -gt 0 ]; then
    tail -q -n 0 -F "$@" 2>/dev/null &
    follower=$!
fi
monit -I -c "$rc" &
monit=$!

stop() {
    trap '' TERM INT
    kill -TERM "$monit" 2>/dev/null
    wait "$monit"
    sed -n 's/^[[:space:]]*stop program = "\(.*\)" with timeout.*$/\1/p' "$rc" | while read -r program; do
        sh -c "$program"
    done
    [ -z "$follower" ] || kill "$follower" 2>/dev/null
    exit 0
}
trap stop TERM INT
wait "$monit"
status=$?
# Monit ended by itself: the container ends, and Docker's restart policy takes over.
[ -z "$follower" ] || kill "$follower" 2>/dev/null
exit "$status"

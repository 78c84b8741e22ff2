#!/bin/sh
# Start one Galera node the way Debian's systemd unit (mariadb.service) does: first recover the
# node's position from InnoDB (galera_recovery runs `mariadbd --wsrep-recover`), so that a node
# restarted after kill -9 rejoins by IST (only the writes it missed) rather than by a full SST (a
# copy of everything): after a crash grastate.dat says seqno -1, and only InnoDB knows better.
#
# A new primary component (--wsrep-new-cluster) only when the launcher asked for it (stack/galera.py
# chose this node: safe_to_bootstrap, else the most advanced) and grastate.dat agrees: a refused
# bootstrap resets the node's seqno to -1, and its next start would need a full SST. The request is
# consumed, so when Monit restarts this node later it joins the running cluster.
#
# Monit's start program, through monit/bin/start.sh (which backgrounds it and writes its pid: this
# script execs mariadbd, so the pid stays the server's).
# usage: galera-start.sh DEFAULTS_FILE DATADIR BOOTSTRAP_REQUEST [MARIADBD_OPTION...]
set -eu
cnf=$1 datadir=$2 request=$3
shift 3

bootstrap=
if [ -e "$request" ]; then
    rm -f "$request"
    if [ -f "$datadir/grastate.dat" ] && ! grep -q '^safe_to_bootstrap: *1' "$datadir/grastate.dat"; then
        echo "galera-start: not bootstrapping: $datadir/grastate.dat says safe_to_bootstrap: 0" \
             "(docs/runbook.md#bootstrap-after-a-full-stop)" >&2
        exit 1
    fi
    bootstrap=--wsrep-new-cluster
fi

position=
if [ -d "$datadir/mysql" ]; then  # an empty node has no position: it joins by SST
    position=$(galera_recovery --defaults-file="$cnf") || {
        echo "galera-start: could not recover the position from $datadir" >&2
        exit 1
    }
fi
# A node that crashed (seqno -1) and comes straight back finds the others still counting its old
# incarnation in: their membership protocol then thrashed for ~10 s (measured), stalling every
# commit. Waiting until they have left it out (evs.inactive_timeout 4 s) makes the rejoin clean.
if [ -z "$bootstrap" ] && grep -qs '^seqno: *-1' "$datadir/grastate.dat"; then
    echo "galera-start: crashed; waiting ${GALERA_REJOIN_DELAY:-4} s until the others have left it out" >&2
    sleep "${GALERA_REJOIN_DELAY:-4}"
fi
echo "galera-start: mariadbd ${position:-(empty node: SST)} ${bootstrap}" >&2
# shellcheck disable=SC2086  # both are one option or nothing
exec /usr/sbin/mariadbd --defaults-file="$cnf" $position $bootstrap "$@"

#!/bin/sh
# Stop the program in PIDFILE: SIGTERM (and SIGCONT, in case it was stopped with SIGSTOP), then
# SIGKILL if it is still there after GRACE seconds.
# usage: stop.sh PIDFILE [GRACE]
pidfile=$1 grace=${2:-6}
[ -f "$pidfile" ] || exit 0
pid=$(cat "$pidfile")
[ -n "$pid" ] || exit 0

# A process that has exited but was not reaped yet (a zombie) counts as gone.
running() {
    [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

running || exit 0
kill -TERM "$pid" 2>/dev/null || exit 0
kill -CONT "$pid" 2>/dev/null
i=0
while [ "$i" -lt $((grace * 10)) ]; do
    running || exit 0
    sleep 0.1
    i=$((i + 1))
done
kill -KILL "$pid" 2>/dev/null
exit 0

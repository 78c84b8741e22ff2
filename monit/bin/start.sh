#!/bin/sh
# Start a supervised program in the background and return at once (a Monit start program that
# stays in the foreground blocks Monit for its whole timeout).
# usage: start.sh PIDFILE LOGFILE COMMAND [ARG...]
pidfile=$1 logfile=$2
shift 2
"$@" >>"$logfile" 2>&1 </dev/null &
echo $! >"$pidfile"

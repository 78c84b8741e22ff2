#!/bin/sh
# HAProxy under Monit (started by start.sh, which appends its output to the log file). HAProxy makes
# its standard output non-blocking with a fcntl that drops O_APPEND, so a restarted HAProxy would
# write its log from the start of the file, over the old lines. One line written first, while
# O_APPEND still holds, moves the file position (shared by stdout and stderr) to the end.
# usage: haproxy.sh HAPROXY-ARGS...
echo "$(date -u +%Y-%m-%dT%H:%M:%S.%6N+00:00) starting haproxy"
exec /usr/sbin/haproxy "$@"

#!/bin/bash
# The db container's main process (user mysql, under tini). It prepares the data directory, then
# hands over to Monit, which starts and supervises mariadbd (and, for a Galera node, its readiness
# probe); mariadbd applies init.sql (the users, stack.database.user_statements) at every start.
#
# The single MariaDB (PIGGY_DB_NODE unset): the data directory is made on the first start, with the
# options of stack/database.py (INSTALL_DB_OPTIONS).
#
# A Galera node (docker-compose.galera.yml sets PIGGY_DB_NODE=db1 ...): what stack/galera.py decides
# natively, with what one node can see. It asks its start wrapper (mariadb/galera-start.sh) to
# bootstrap a new primary component only if no other node answers on its Galera port and
#   - its grastate.dat says safe_to_bootstrap: 1 (it stopped last), or
#   - it is the first node (PIGGY_GALERA_FIRST=1) and has no data at all (a new cluster).
# Otherwise it joins: by IST with its data, by SST without. After a crash of every node none is safe
# to bootstrap; Galera restores the primary component by itself once all of them are back
# (gvwstate.dat), or an operator bootstraps the most advanced (docs/runbook.md#galeraquorumlost).
set -euo pipefail
datadir=/var/lib/mysql
config=/etc/piggybank/${PIGGY_DB_NODE:-db}
request=/var/lib/piggybank/bootstrap-requested

install_datadir() {
    echo "db: creating the data directory in $datadir"
    mariadb-install-db --no-defaults --datadir="$datadir" --user=mysql \
        --skip-test-db --auth-root-authentication-method=socket >>/var/log/piggybank/mariadb-install.log 2>&1 \
        || { cat /var/log/piggybank/mariadb-install.log; exit 1; }
}

peer_answers() {
    local peers peer self
    peers=$(sed -n 's/^wsrep_cluster_address = gcomm:\/\///p' "$config/my.cnf" | tr ',' ' ')
    self=$(sed -n 's/^wsrep_node_address = //p' "$config/my.cnf")
    for peer in $peers; do
        [ "$peer" = "$self" ] && continue
        if timeout 1 bash -c "exec 3<>/dev/tcp/${peer%%:*}/${peer##*:}" 2>/dev/null; then
            echo "db: $peer answers: joining the running cluster"
            return 0
        fi
    done
    return 1
}

rm -f "$request"
if [ -z "${PIGGY_DB_NODE:-}" ]; then
    [ -d "$datadir/mysql" ] || install_datadir
elif ! peer_answers; then
    if [ ! -d "$datadir/mysql" ] && [ "${PIGGY_GALERA_FIRST:-0}" = 1 ]; then
        install_datadir
        echo "a new cluster" >"$request"
    elif grep -qs '^safe_to_bootstrap: *1' "$datadir/grastate.dat"; then
        echo "safe_to_bootstrap: 1 in its grastate.dat" >"$request"
    fi
fi
[ ! -f "$request" ] || echo "db: $PIGGY_DB_NODE bootstraps the cluster: $(cat "$request")"
exec /opt/piggybank/monit/bin/supervise.sh "$config/monitrc" \
    /var/lib/piggybank/monit/monit.log "/var/log/piggybank/${PIGGY_DB_NODE:-mariadb}.log"

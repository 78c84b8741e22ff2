#!/bin/sh
# The db container's main process (user mysql, under tini): make the data directory on first start,
# with the options of stack/database.py (INSTALL_DB_OPTIONS), then Monit starts and supervises
# mariadbd, which applies /etc/piggybank/db/init.sql (the users, stack.database.user_statements)
# at every start.
set -eu
datadir=/var/lib/mysql
if [ ! -d "$datadir/mysql" ]; then
    echo "db: creating the data directory in $datadir"
    mariadb-install-db --no-defaults --datadir="$datadir" --user=mysql \
        --skip-test-db --auth-root-authentication-method=socket >>/var/log/piggybank/mariadb-install.log 2>&1 \
        || { cat /var/log/piggybank/mariadb-install.log; exit 1; }
fi
exec /opt/piggybank/monit/bin/supervise.sh /etc/piggybank/db/monitrc \
    /var/lib/piggybank/monit/monit.log /var/log/piggybank/mariadb.log

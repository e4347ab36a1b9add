#!/usr/bin/env bash
# Starts what the tests talk to when it is not running: the local PostgreSQL
# cluster (127.0.0.1:5432) and Redis (127.0.0.1:6379). Idempotent.
set -euo pipefail

if [ "${NEWSDESK_SKIP_PG:-0}" != "1" ] && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "PostgreSQL is down; starting the local cluster"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && break
        sleep 1
    done
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "Redis is down; starting it"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 1 10); do
        redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break
        sleep 1
    done
fi

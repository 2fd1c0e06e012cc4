#!/usr/bin/env bash
# Runs once on pg1 when its data directory is initialized (docker-entrypoint-initdb.d), as the
# postgres user against the entrypoint's temporary server. Replicas copy the result with
# pg_basebackup, so every node has the same roles and pg_hba.conf and any may become the primary.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set replication_password="$REPLICATION_PASSWORD" --set app_password="$APP_PASSWORD" <<'SQL'
-- the replicas' base backups and streaming
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD :'replication_password';
-- the application's user and database (psql postgresql://app:app@127.0.0.1:6432/app)
CREATE ROLE app WITH LOGIN PASSWORD :'app_password';
CREATE DATABASE app OWNER app;
SQL

# Replication connections from the other containers. "all" users: pgrelay re-points replicas to a
# new primary with its monitor's credentials (postgres) after a failover or switchover.
cat >> "$PGDATA/pg_hba.conf" <<'HBA'

# added by docker/postgres/primary-init.sh
host    replication     all     all     scram-sha-256
HBA

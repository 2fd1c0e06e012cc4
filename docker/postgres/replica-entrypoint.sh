#!/usr/bin/env bash
# Entrypoint of pg2 and pg3: on first start (empty data directory) a base backup of PRIMARY_HOST
# with -R, which writes standby.signal and primary_conninfo, so the node starts as a streaming
# replica; then the image's own entrypoint, which finds the data directory initialized.
set -euo pipefail

: "${PGDATA:=/var/lib/postgresql/data}"
: "${NODE_NAME:?NODE_NAME is required (the node name in pgrelay.yml, used as application_name)}"
: "${PRIMARY_HOST:?PRIMARY_HOST is required}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD is required}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  # application_name = the node name: pgrelay's replication modes name standbys by it.
  # The password goes into the conninfo, so that -R writes it into primary_conninfo (quoted for libpq).
  password="${REPLICATION_PASSWORD//\\/\\\\}"
  password="${password//\'/\\\'}"
  conninfo="host=$PRIMARY_HOST port=5432 user=replicator password='$password' application_name=$NODE_NAME"
  for attempt in $(seq 1 30); do
    if gosu postgres \
        pg_basebackup --pgdata="$PGDATA" --dbname="$conninfo" --write-recovery-conf \
        --wal-method=stream --checkpoint=fast --progress; then
      break
    fi
    if [ "$attempt" = 30 ]; then
      echo "replica-entrypoint: no base backup from $PRIMARY_HOST after $attempt attempts" >&2
      exit 1
    fi
    echo "replica-entrypoint: base backup from $PRIMARY_HOST failed, retrying in 2 s ($attempt/30)" >&2
    rm -rf "${PGDATA:?}"/*
    sleep 2
  done
fi

exec docker-entrypoint.sh "$@"

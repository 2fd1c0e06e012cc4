#!/usr/bin/env bash
# Container health check: GET /healthz on pgrelay's admin API, answered 200 while the process lives.
# Only bash is needed (its /dev/tcp), since a slim JRE image has neither curl nor wget for sure.
# The port is PGRELAY_ADMIN_PORT, the variable docker/pgrelay.yml builds admin.listen from.
set -euo pipefail

port="${PGRELAY_ADMIN_PORT:-6480}"
if ! exec 3<>"/dev/tcp/127.0.0.1/$port"; then
  echo "pgrelay-healthcheck: nothing listens on 127.0.0.1:$port" >&2
  exit 1
fi
request=$'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:'"$port"$'\r\nConnection: close\r\n\r\n'
printf '%s' "$request" >&3   # one write
status=""
IFS= read -r -t 4 status <&3 || true
exec 3<&-
case "$status" in
  "HTTP/1."?" 200 "*) exit 0 ;;
  *)
    echo "pgrelay-healthcheck: GET /healthz on 127.0.0.1:$port answered '${status%$'\r'}'" >&2
    exit 1
    ;;
esac

#!/usr/bin/env bash
# Starts the system servers the tests talk to, bound to loopback. Safe to run again.
set -euo pipefail
log() { printf '\n== %s\n' "$*"; }

wait_http() { # url seconds
  for _ in $(seq 1 "$2"); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 1; done
  echo "not reachable: $1" >&2; return 1
}

# InfluxDB 1.x: HTTP API on 127.0.0.1:8086, RPC on 127.0.0.1:8088 (never on all interfaces).
conf=/etc/influxdb/influxdb.conf
if ! grep -q '^bind-address = "127.0.0.1:8088"' "$conf"; then
  sed -i 's|^# *bind-address = "127.0.0.1:8088"|bind-address = "127.0.0.1:8088"|' "$conf"
  grep -q '^bind-address = "127.0.0.1:8088"' "$conf" || sed -i '1i bind-address = "127.0.0.1:8088"' "$conf"
fi
if ! awk '/^\[http\]/{h=1;next} /^\[/{h=0} h && /^ *bind-address *= *"127.0.0.1:8086"/{f=1} END{exit !f}' "$conf"; then
  sed -i '/^\[http\]/a\  bind-address = "127.0.0.1:8086"' "$conf"
fi
# no usage reports: nothing leaves loopback
grep -q '^reporting-disabled = true' "$conf" || sed -i '1i reporting-disabled = true' "$conf"
if ! curl -fsS -o /dev/null http://127.0.0.1:8086/ping 2>/dev/null; then
  log "starting influxd"
  mkdir -p /var/lib/influxdb /var/log/influxdb
  nohup influxd -config "$conf" >/var/log/influxdb/ci.log 2>&1 &
fi
wait_http http://127.0.0.1:8086/ping 30

# Mosquitto on its standard port (the project's own broker never takes 1883).
if ! (echo > /dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  log "starting mosquitto"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
fi

# PostgreSQL on 127.0.0.1:5432 (the cloud tests' second pass connects as postgres there). Left as it
# is when something already listens on 5432; otherwise the newest Debian cluster is created if there
# is none, bound to loopback, given trust auth for loopback TCP (test data only), and started.
if ! (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$ver main"; then
    log "creating PostgreSQL $ver cluster main"
    pg_createcluster "$ver" main >/dev/null
  fi
  pgconf=/etc/postgresql/$ver/main
  mkdir -p "$pgconf/conf.d"
  printf "listen_addresses = '127.0.0.1'\nport = 5432\n" > "$pgconf/conf.d/gridsense-ci.conf"
  grep -qx 'host all all 127.0.0.1/32 trust' "$pgconf/pg_hba.conf" || sed -i '1i host all all 127.0.0.1/32 trust' "$pgconf/pg_hba.conf"
  log "starting PostgreSQL $ver"
  pg_ctlcluster "$ver" main start
  for _ in $(seq 1 30); do (echo > /dev/tcp/127.0.0.1/5432) 2>/dev/null && break; sleep 1; done
fi
if [ -z "${GRIDSENSE_TEST_PG_URL:-}" ] && ! psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -Atqc 'select 1' >/dev/null; then
  echo "PostgreSQL on 127.0.0.1:5432 does not let postgres in without a password: give the tests a URL, GRIDSENSE_TEST_PG_URL=postgres://user:password@127.0.0.1:5432/db" >&2
  exit 1
fi

log "services up"

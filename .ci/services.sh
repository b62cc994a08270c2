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

log "services up"

#!/usr/bin/env bash
# Hostile-load benchmark (issue 11): replays hostile peers against `icon server` on loopback,
# with nginx beside it (its own port, the same certificate, file and client-certificate check)
# for the cases that apply. For each case it prints the server's peak RSS, its RSS after, a
# legitimate machine's latency (curl fetching the manifest over mTLS, and an agent-style report
# over /ws/slave: upgrade, first message, one report frame) and the outcome. Attackers connect
# from 127.0.0.1, the legitimate machine from 127.0.0.2.
#
# Cases: parallel downloads, stalled readers (ask for the ISO, read nothing), idle TLS
# connections, slowloris (a header byte a second), malformed requests (NUL in a header, 200 KB
# header, 3,000 headers, 100 KB URL, LF-only lines), a flood of raw TCP connections (ours only).
# Goals (ours; exit 1 when one is missed): under 256 MiB peak RSS for the downloads and the
# stalled readers, back within 64 MiB of idle after them, every download complete, the
# legitimate machine served within 1 s while connections are held, every slowloris cut,
# malformed requests answered 400/431/414 and closed.
#
# Usage (root; installs nginx with apt-get when it is missing; not run by CI):
#   sudo benchmarks/hostile-load.sh          default: 50 downloads of a 100 MiB ISO, 200 stalled
#                                            readers, 2,000 idle/slowloris/raw connections (~5 min)
#   sudo benchmarks/hostile-load.sh --full   200 downloads of a 300 MiB ISO (the issue's sizes)
# Environment: CONFIG=release|debug (default: release when built, else debug), PORT (18543),
#   NGINX_PORT (18544), DOWNLOADS, SIZE_MIB, STALLED, CONNECTIONS, CASES (comma-separated), KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --full ]; then DOWNLOADS=${DOWNLOADS:-200}; SIZE_MIB=${SIZE_MIB:-300}; fi
DOWNLOADS=${DOWNLOADS:-50}
SIZE_MIB=${SIZE_MIB:-100}
STALLED=${STALLED:-200}
CONNECTIONS=${CONNECTIONS:-2000}
CASES=${CASES:-downloads,stalled,idle,slowloris,malformed,flood}
PORT=${PORT:-18543}
NGINX_PORT=${NGINX_PORT:-18544}
if [ -z "${CONFIG:-}" ]; then if [ -x .build/release/icon ]; then CONFIG=release; else CONFIG=debug; fi; fi
BIN=.build/$CONFIG
RESULT=benchmarks/results/hostile-load.txt

[ "$(id -u)" = 0 ] || { echo "hostile-load: run as root (it installs nginx and raises ulimit -n)" >&2; exit 2; }
[ -x "$BIN/icon" ] || { echo "hostile-load: $BIN/icon is missing; run: swift build -c $CONFIG" >&2; exit 2; }
for tool in curl openssl python3; do command -v $tool >/dev/null || { echo "hostile-load: $tool is missing" >&2; exit 2; }; done
if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "hostile-load: installing nginx ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx >/dev/null
  systemctl disable --now nginx >/dev/null 2>&1 || true   # only ours, on its own port, runs
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/icon-hostile-load.XXXXXX)
server_pid= nginx_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "$nginx_pid" ]; then kill "$nginx_pid" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "hostile-load: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A throwaway PKI: one CA for the server and the (host-name-less) machine certificate.
source benchmarks/throwaway-pki.sh "hostile-load CA"

chmod 755 "$work"   # nginx's workers (www-data) must reach the image
mkdir -p "$work/images/bench"
echo '{"images":[]}' >"$work/images/bench/manifest.json"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$work/images/bench/bench.iso"

"$BIN/icon" server --listen "127.0.0.1:$PORT" --image-path "$work/images" --image-type bench \
  --cert "$work/server.pem" --key "$work/server.key" --client-ca-cert "$work/ca.pem" --allow-any-report-hostname \
  >"$work/server.log" 2>&1 &
server_pid=$!

cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $work/server.pem;
    ssl_certificate_key $work/server.key;
    ssl_client_certificate $work/ca.pem;
    ssl_verify_client on;
    location /image/ { alias $work/images/; }
  }
}
EOF
"$NGINX" -c "$work/nginx.conf" -p "$work"
for _ in $(seq 100); do
  [ -s "$work/nginx.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done
nginx_pid=$(cat "$work/nginx.pid")
kill -0 "$server_pid" 2>/dev/null || { echo "hostile-load: the server did not start:" >&2; cat "$work/server.log" >&2; exit 2; }
sleep 1   # let the accept above time out of the handshake count

echo "hostile-load: $CONFIG build; $DOWNLOADS x $SIZE_MIB MiB downloads, $STALLED stalled readers, $CONNECTIONS connections ..." >&2
status=0
python3 benchmarks/hostile_load.py --icon "$PORT:$server_pid" --nginx "$NGINX_PORT:$nginx_pid" \
  --ca "$work/ca.pem" --cert "$work/machine.pem" --key "$work/machine.key" \
  --downloads "$DOWNLOADS" --size-mib "$SIZE_MIB" --stalled "$STALLED" --connections "$CONNECTIONS" \
  --cases "$CASES" >"$work/rows" || status=$?
[ "$status" -le 1 ] || { echo "hostile-load: the load generator failed (status $status)" >&2; cat "$work/rows" >&2; exit 2; }

{
  echo "hostile load on loopback ($CONFIG build of icon, $(date -u +%Y-%m-%d), $(nproc) cores)"
  echo "legit = a machine on 127.0.0.2: curl fetching the manifest / a report over /ws/slave (worst of 3, ms)"
  printf '%-30s %-6s %9s %9s %9s %10s  %-8s %s\n' case server "peak MiB" "after MiB" "fetch ms" "report ms" verdict outcome
  while IFS='|' read -r case server peak after fetch report outcome verdict; do
    printf '%-30s %-6s %9s %9s %9s %10s  %-8s %s\n' "$case" "$server" "$peak" "$after" "$fetch" "$report" "$verdict" "$outcome"
  done <"$work/rows"
} | tee "$RESULT"
exit "$status"

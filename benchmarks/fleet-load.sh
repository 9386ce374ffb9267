#!/usr/bin/env bash
# Fleet load benchmark (issue 3): COUNT simulated machines (default 10,000) hold mTLS WebSockets
# to `icon server` on loopback, each reporting every 5 s. Measures the server's peak resident
# memory, its CPU while the fleet reports, and how long a new manifest takes to reach every
# machine (from the rename into the watched directory to the receipt of `new_manifest`).
# Prints a table; exits 1 when a goal is missed (memory < 1 GiB, every delivery within 2 s).
#
# The generator keeps up to 600 TLS handshakes in flight from each source address, more than the
# server's default --max-unauthenticated-per-address (256), so the server gets 1000 here. All
# simulated machines share one certificate, so the server also lets it report under COUNT names
# (--allow-any-report-hostname --max-hostnames-per-certificate; a real fleet has one per machine).
#
# Usage: benchmarks/fleet-load.sh            (builds nothing: run `swift build -c release` first)
#   COUNT=2000 CONFIG=debug benchmarks/fleet-load.sh   for a quick trial against debug builds
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-10000}
CONFIG=${CONFIG:-release}
PORT=${PORT:-18443}
SETTLE=${SETTLE:-12}
BIN=.build/$CONFIG
GOAL_RSS_MIB=1024
GOAL_DELIVERY_MS=2000

for tool in "$BIN/icon" "$BIN/icon-loadgen"; do
  [ -x "$tool" ] || { echo "fleet-load: $tool is missing; run: swift build -c $CONFIG" >&2; exit 2; }
done
# Each side holds COUNT sockets plus files; ask for headroom within the hard limit.
want=$((COUNT + 2000))
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge "$want" ] || { echo "fleet-load: ulimit -Hn is $hard, need $want" >&2; exit 2; }
ulimit -n "$want"
ports=$(awk '{print $2 - $1}' /proc/sys/net/ipv4/ip_local_port_range)
sources=$(( COUNT / (ports > 1000 ? ports - 1000 : 1) + 1 ))

work=$(mktemp -d /tmp/icon-fleet-load.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "fleet-load: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# A throwaway PKI: one CA for the server and the (host-name-less) machine certificate.
source benchmarks/throwaway-pki.sh "fleet-load CA"

mkdir -p "$work/images/bench"
echo '{"images":[]}' >"$work/images/bench/manifest.json"
echo '{"images":[],"next":true}' >"$work/images/.manifest.json.new"   # same file system: rename is atomic

"$BIN/icon" server --listen "127.0.0.1:$PORT" --image-path "$work/images" --image-type bench \
  --cert "$work/server.pem" --key "$work/server.key" --client-ca-cert "$work/ca.pem" --allow-any-report-hostname \
  --max-unauthenticated-per-address 1000 --max-hostnames-per-certificate "$COUNT" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null || { echo "fleet-load: the server did not start:" >&2; cat "$work/server.log" >&2; exit 2; }

echo "fleet-load: $COUNT machines ($CONFIG build, $sources source address(es)) ..." >&2
"$BIN/icon-loadgen" --port "$PORT" --cert "$work/machine.pem" --key "$work/machine.key" --ca "$work/ca.pem" \
  --count "$COUNT" --settle "$SETTLE" --delivery-timeout "${DELIVERY_TIMEOUT:-10}" --source-addresses "$sources" --server-pid "$server_pid" \
  --manifest-source "$work/images/.manifest.json.new" --manifest-dir "$work/images/bench" | tee "$work/result" >&2
get() { sed -n "s/^$1=//p" "$work/result" | tail -1; }
peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status")
peak_mib=$((peak_kib / 1024))

connected=$(get connected); received=$(get manifest_received)
p50=$(get manifest_p50_ms); p99=$(get manifest_p99_ms); max=$(get manifest_max_ms)
verdict() { if [ "$1" = 1 ]; then echo ok; else echo MISSED; fi; }
ok_conn=$([ "${connected:-0}" -eq "$COUNT" ] && echo 1 || echo 0)
ok_rss=$([ "$peak_mib" -lt "$GOAL_RSS_MIB" ] && echo 1 || echo 0)
ok_recv=$([ "${received:-0}" -eq "$COUNT" ] && echo 1 || echo 0)
ok_time=$([ -n "$max" ] && [ "$max" -le "$GOAL_DELIVERY_MS" ] && echo 1 || echo 0)

printf '\n%-36s %14s %14s %8s\n' "fleet load ($CONFIG build)" value goal verdict
printf '%-36s %14s %14s %8s\n' "machines connected" "${connected:-0}" "$COUNT" "$(verdict $ok_conn)"
printf '%-36s %14s %14s\n' "connect time (s)" "$(get connect_seconds)" "-"
printf '%-36s %14s %14s %8s\n' "server peak RSS (MiB)" "$peak_mib" "< $GOAL_RSS_MIB" "$(verdict $ok_rss)"
printf '%-36s %14s %14s\n' "server RSS at end (MiB)" "$((rss_kib / 1024))" "-"
printf '%-36s %14s %14s\n' "server CPU while reporting (%)" "$(get server_cpu_percent)" "-"
printf '%-36s %14s %14s %8s\n' "new_manifest received" "${received:-0}" "$COUNT" "$(verdict $ok_recv)"
printf '%-36s %14s %14s\n' "new_manifest p50 (ms)" "${p50:--}" "-"
printf '%-36s %14s %14s\n' "new_manifest p99 (ms)" "${p99:--}" "-"
printf '%-36s %14s %14s %8s\n' "new_manifest max (ms)" "${max:--}" "<= $GOAL_DELIVERY_MS" "$(verdict $ok_time)"

[ $((ok_conn & ok_rss & ok_recv & ok_time)) = 1 ] || exit 1

#!/usr/bin/env bash
# Trust-core speed goals, measured against the named peers in one run on the same files:
#   1. `icon publish` hashes a 1 GiB image at >= 2x the speed of GNU `sha256sum`;
#   2. `icon fetch` over mTLS on loopback downloads, hashes and writes a 1 GiB image at
#      >= 0.9x the throughput of `curl --cacert --cert --key -o` from the same server and file,
#      with peak resident memory under 64 MiB.
# Usage: sudo benchmarks/trust-core.sh [SIZE_MIB (default 1024)] [RUNS (default 3)]
# Exits 1 when a goal is missed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"
size_mib=${1:-1024}
runs=${2:-3}

echo "bench: building icon (release)"
swift build -c release --product icon 2>&1 | tail -1
icon=$PWD/.build/release/icon
work=$(mktemp -d /var/tmp/icon-bench.XXXXXX)
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

median() { python3 -c 'import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "bench: preparing a ${size_mib} MiB image and a CA in $work"
"$icon" pki init "$work/ca" --name "Bench CA" >/dev/null
"$icon" pki issue --ca-dir "$work/ca" --role signer --name "Bench Signer" --out "$work/ca/signer" >/dev/null
"$icon" pki issue --ca-dir "$work/ca" --role server --name localhost --ip 127.0.0.1 --dns localhost --out "$work/ca/server" >/dev/null
"$icon" pki issue --ca-dir "$work/ca" --role device --name bench-device --out "$work/ca/device" >/dev/null
mkdir -p "$work/src" "$work/images/bench"
head -c "$((size_mib * 1048576))" /dev/urandom > "$work/src/payload.bin"
xorriso -as mkisofs -quiet -V BENCH -o "$work/images/bench/1700000000.iso" "$work/src" 2>/dev/null
rm -f "$work/src/payload.bin"
iso=$work/images/bench/1700000000.iso
bytes=$(stat -c %s "$iso")
cat "$iso" > /dev/null   # both tools read from a warm page cache

echo "bench: hashing ($runs runs each)"
sha_times=(); icon_times=()
for _ in $(seq "$runs"); do
  t0=$(now); sha256sum "$iso" >/dev/null; t1=$(now); sha_times+=("$(elapsed "$t0" "$t1")")
  rm -f "$work/images/bench/manifest.json" "$work/images/bench/manifest.json.unsigned"
  t0=$(now)
  "$icon" publish --image-dir "$work/images/bench" --cert "$work/ca/signer.cert.pem" --key "$work/ca/signer.key.pem" \
    --other-cert "$work/ca/intermediate.cert.pem" --default-rollout 10000 >/dev/null
  t1=$(now); icon_times+=("$(elapsed "$t0" "$t1")")
done
sha_s=$(median "${sha_times[@]}"); icon_s=$(median "${icon_times[@]}")
hash_ratio=$(python3 -c "print(f'{$sha_s / $icon_s:.2f}')")

echo "bench: fetching over mTLS on loopback ($runs runs each)"
"$icon" server --listen 127.0.0.1:0 --image-path "$work/images" --image-type bench \
  --cert "$work/ca/server.chain.pem" --key "$work/ca/server.key.pem" --client-ca-cert "$work/ca/root.cert.pem" \
  > "$work/server.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -oE 'https://127\.0\.0\.1:[0-9]+' "$work/server.log" | head -1 || true)
  [ -n "$url" ] && break; sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log"; exit 1; }
curl_times=(); fetch_times=(); fetch_rss=()
for _ in $(seq "$runs"); do
  rm -f "$work/curl.iso"
  t0=$(now)
  curl -sS --fail --cacert "$work/ca/root.cert.pem" --cert "$work/ca/device.chain.pem" --key "$work/ca/device.key.pem" \
    -o "$work/curl.iso" "$url/image/bench/1700000000.iso"
  t1=$(now); curl_times+=("$(elapsed "$t0" "$t1")")
  rm -rf "$work/device"; mkdir -p "$work/device"
  t0=$(now)
  /usr/bin/time -f %M -o "$work/rss" "$icon" fetch --base-url "$url/image/bench" --ca-cert "$work/ca/root.cert.pem" \
    --https-ca-cert "$work/ca/root.cert.pem" --https-client-cert "$work/ca/device.chain.pem" \
    --https-client-key "$work/ca/device.key.pem" --image-dir "$work/device" --hostname bench-device >/dev/null 2>&1
  t1=$(now); fetch_times+=("$(elapsed "$t0" "$t1")"); fetch_rss+=("$(cat "$work/rss")")
  cmp -s "$work/curl.iso" "$work/device/1700000000.iso" || { echo "bench: fetched bytes differ"; exit 1; }
done
curl_s=$(median "${curl_times[@]}"); fetch_s=$(median "${fetch_times[@]}")
rss_kib=$(printf '%s\n' "${fetch_rss[@]}" | sort -n | tail -1)
fetch_ratio=$(python3 -c "print(f'{$curl_s / $fetch_s:.2f}')")
mibs() { python3 -c "print(f'{$bytes / 1048576 / $1:.0f}')"; }

printf '\n%-34s %10s %10s %8s %s\n' "measure (median of $runs)" "icon" "peer" "ratio" "goal"
printf '%-34s %9ss %9ss %8s %s\n' "hash ${size_mib} MiB (publish/sha256sum)" "$icon_s" "$sha_s" "${hash_ratio}x" ">= 2x"
printf '%-34s %9ss %9ss %8s %s\n' "fetch ${size_mib} MiB (fetch/curl)" "$fetch_s" "$curl_s" "${fetch_ratio}x" ">= 0.9x"
printf '%-34s %7s MB/s %5s MB/s\n' "fetch throughput" "$(mibs "$fetch_s")" "$(mibs "$curl_s")"
printf '%-34s %8s MiB %14s %s\n' "icon fetch peak RSS" "$((rss_kib / 1024))" "" "< 64 MiB"

fail=0
python3 -c "import sys; sys.exit(0 if $hash_ratio >= 2 else 1)" || { echo "bench: MISSED hash ratio"; fail=1; }
python3 -c "import sys; sys.exit(0 if $fetch_ratio >= 0.9 else 1)" || { echo "bench: MISSED fetch ratio"; fail=1; }
[ "$rss_kib" -lt 65536 ] || { echo "bench: MISSED peak RSS"; fail=1; }
[ $fail -eq 0 ] && echo "bench: all goals met"
exit $fail

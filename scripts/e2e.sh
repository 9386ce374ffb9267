#!/usr/bin/env bash
# The whole loop on a virtual machine (QEMU, software emulation), every step checked and timed:
#   1. a CA, image v1 (iconograph + persistent + systemid modules), published at 100 %, the server;
#   2. a disk imaged with `icon image`, booted; the machine's report reaches /ws/master and the
#      inventory;
#   3. v2 built (root cache reused) and published: pushed, downloaded, "reboot into v2", back on
#      v2 and marked good, with the file written to /persistent on v1 still there;
#   4. "reboot into v1" (rollback by choice), then forward to v2 again;
#   5. v3 whose health command fails: boots, is not marked good, the machine reboots and GRUB
#      falls back to v2 by itself; the machine reports the failed v3;
#   6. power loss while v4 downloads: the boot partition is consistent, the machine boots, and
#      the update completes.
# Usage: sudo scripts/e2e.sh        (after `swift build`; scripts/test.sh runs it)
# Environment: ICON (the icon binary, default .build/debug/icon), ICON_RELEASE_BINARY (the binary
# the images carry, default dist/icon, made by scripts/build-release.sh when missing), ICON_E2E_WORK (work directory,
# default /var/tmp/icon-e2e, emptied first), ICON_E2E_CACHE (the image builder's cache, default
# /var/tmp/iconograph-test-cache), ICON_E2E_PORT (server port, default 18443).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
icon=${ICON:-$repo/.build/debug/icon}
release=${ICON_RELEASE_BINARY:-$repo/dist/icon}
work=${ICON_E2E_WORK:-/var/tmp/icon-e2e}
cache=${ICON_E2E_CACHE:-/var/tmp/iconograph-test-cache}
port=${ICON_E2E_PORT:-18443}
type=e2e
t1=1800000100 t2=1800000200 t3=1800000300 t4=1800000400

[ "$(id -u)" -eq 0 ] || { echo "e2e: needs root (loop devices, chroot, mounts)" >&2; exit 1; }
[ -x "$icon" ] || { echo "e2e: no icon binary at $icon (run swift build first)" >&2; exit 1; }
if [ ! -x "$release" ]; then
  [ -z "${ICON_RELEASE_BINARY:-}" ] || { echo "e2e: no release icon at $release" >&2; exit 1; }
  bash scripts/build-release.sh
fi
for tool in qemu-system-x86_64 mmdebstrap mksquashfs xorriso curl python3 losetup; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing (sudo scripts/setup.sh)" >&2; exit 1; }
done
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
  echo "e2e: port $port is in use; set ICON_E2E_PORT" >&2; exit 1
fi

started=$(date +%s)
phase_started=$started
phase_name=""
summary=()
pids=()
vm=""
loopdev=""
cleanup() {
  [ -n "$vm" ] && kill -9 "$vm" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if mountpoint -q "$work/mnt" 2>/dev/null; then umount "$work/mnt" || true; fi
  [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null || true
  for dev in $(losetup -j "$work/disk.img" 2>/dev/null | cut -d: -f1); do losetup -d "$dev" || true; done
}
trap cleanup EXIT

phase() {
  end_phase
  # ICON_E2E_STOP_AFTER=N stops after phase N (for working on the script).
  if [ -n "${ICON_E2E_STOP_AFTER:-}" ] && [ -n "$phase_name" ] && [ "${phase_name%%.*}" = "$ICON_E2E_STOP_AFTER" ]; then
    echo "e2e: stopping after phase $ICON_E2E_STOP_AFTER"; exit 0
  fi
  phase_name=$1
  phase_started=$(date +%s)
  printf '\n\033[1m== %s\033[0m\n' "$phase_name"
}
end_phase() {
  if [ -n "$phase_name" ]; then
    local took=$(( $(date +%s) - phase_started ))
    summary+=("$(printf '%-62s %5d s' "$phase_name" "$took")")
    echo "   ($phase_name: ${took} s)"
  fi
  phase_name=""
}
step() { echo "-- $* [$(( $(date +%s) - started )) s]"; }
fail() {
  echo "e2e: FAILED in phase '$phase_name': $*" >&2
  if [ -f "$work/console.log" ]; then
    echo "---- console tail ----" >&2
    tail -c 3000 "$work/console.log" | tr -d '\r' >&2 || true
  fi
  if [ -f "$work/server.log" ]; then
    echo "---- server log tail ----" >&2
    tail -n 30 "$work/server.log" >&2 || true
  fi
  exit 1
}

rm -rf "$work"
mkdir -p "$work/images/$type" "$work/staging" "$work/mnt"
ca=$work/ca

# --- certificates, builds, server -------------------------------------------------------------

tls_flags=(--https-ca-cert "$ca/root.cert.pem" --https-client-cert "$ca/operator.chain.pem" --https-client-key "$ca/operator.key.pem")
operator() { "$icon" operator "$1" --server "wss://127.0.0.1:$port" --server-name iconograph.test "${tls_flags[@]}" "${@:2}"; }

# build_image TIMESTAMP LOG [extra iconograph-module flags...]
build_image() {
  local ts=$1 log=$2
  shift 2
  "$icon" build-image --image-path "$work/staging" --image-type "$type" --release bookworm \
    --timestamp "$ts" --kernel-arg console=ttyS0,115200 --work-size 4G --cache-dir "$cache" \
    --module "$icon module iconograph --icon-binary $release --server wss://10.0.2.2:$port --server-name iconograph.test \
      --ca-cert $ca/root.cert.pem --https-ca-cert $ca/root.cert.pem \
      --https-client-cert $ca/device.chain.pem --https-client-key $ca/device.key.pem \
      --image-type $type ${ICON_E2E_AGENT_FLAGS---good-after 20} $*" \
    --module "$icon module persistent" --module "$icon module systemid" \
    --module "$repo/scripts/e2e/probe-module" > "$log" 2>&1
}
# publish [TIMESTAMP]: moves a built image from the staging directory into the served one, then
# signs the manifest at 100 % (the server pushes new_manifest when it changes).
publish() {
  [ -z "${1:-}" ] || mv "$work/staging/$type/$1.iso" "$work/images/$type/$1.iso"
  "$icon" publish --image-dir "$work/images/$type" --cert "$ca/signer.cert.pem" --key "$ca/signer.key.pem" \
    --other-cert "$ca/intermediate.cert.pem" --default-rollout 10000
}

# The machine's inventory record as JSON, from the server's API with the operator certificate.
machine_json() {
  curl -sf --cacert "$ca/root.cert.pem" --cert "$ca/operator.chain.pem" --key "$ca/operator.key.pem" \
    --resolve "iconograph.test:$port:127.0.0.1" "https://iconograph.test:$port/api/machines/$id" || echo '{}'
}
# report_field EXPRESSION: a Python expression over `r` (the machine's newest report) and `m`.
report_field() {
  machine_json | python3 -c "import json,sys; m=json.load(sys.stdin); r=m.get('report') or {}; print($1)"
}
# scaled SECONDS: a deadline multiplied by ICON_TEST_SLOWDOWN (a factor of at least 1, as the
# Swift tests read it), so a busy or slow machine gets more time instead of a failure.
scaled() {
  python3 -c 'import math,sys; f=sys.argv[2]
try: f=float(f)
except ValueError: f=1.0
print(math.ceil(int(sys.argv[1]) * (f if math.isfinite(f) and f >= 1 else 1.0)))' "$1" "${ICON_TEST_SLOWDOWN:-1}"
}
# wait_report EXPRESSION TIMEOUT DESCRIPTION: until the Python expression is True.
wait_report() {
  local expression=$1 timeout waited=0 what=$3
  timeout=$(scaled "$2")
  until [ "$(report_field "$expression" 2>/dev/null)" = True ]; do
    [ $waited -lt "$timeout" ] || fail "no report where $what within $timeout s; last: $(machine_json)"
    sleep 3; waited=$((waited + 3))
  done
  step "inventory: $what"
}

# --- the virtual machine --------------------------------------------------------------------

vm_start() {
  : > "$work/console.log"
  console_mark=0
  qemu-system-x86_64 -machine accel=tcg -m 1536 -smp 1 -display none -monitor none \
    -serial "file:$work/console.log" \
    -drive "file=$work/disk.img,format=raw,if=ide,index=0" \
    -drive "file=$work/systemid.img,format=raw,if=ide,index=1" \
    -nic user,model=e1000 > "$work/qemu.log" 2>&1 &
  vm=$!
}
# Remember where the console is now; the next wait_console only looks at text after it.
mark_console() { console_mark=$(stat -c %s "$work/console.log"); }
# wait_console TEXT TIMEOUT: until TEXT appears on the serial console after the mark.
wait_console() {
  local text=$1 timeout waited=0
  timeout=$(scaled "$2")
  until tail -c +"$((console_mark + 1))" "$work/console.log" | tr -d '\r' | grep -qF -- "$text"; do
    kill -0 "$vm" 2>/dev/null || fail "QEMU exited while waiting for '$text'"
    [ $waited -lt "$timeout" ] || fail "'$text' did not appear on the console within $timeout s"
    sleep 2; waited=$((waited + 2))
  done
  step "console: $text"
}
# expect_boot TIMESTAMP: the probe line of a boot into that image, with the persistent file of v1.
expect_boot() {
  wait_console "ICON-E2E boot running=$1 persistent-first=$t1 hostname=$id" "${2:-600}"
}

# --- checks of the boot partition (with the machine off) --------------------------------------

check_boot_partition() {
  loopdev=$(losetup -f --show -P "$work/disk.img")
  # The kernel's own partition scan does not always create the nodes here; partx does.
  partx -a "$loopdev" 2>/dev/null || true
  local part="" candidate
  for candidate in "$loopdev"p*; do
    [ "$(blkid -s LABEL -o value "$candidate" 2>/dev/null)" = BOOT ] && part=$candidate
  done
  [ -n "$part" ] || fail "no BOOT partition on $work/disk.img"
  mount -o ro "$part" "$work/mnt"
  python3 - "$work/mnt" "$work/images/$type/manifest.json.unsigned" <<'PY' || { umount "$work/mnt"; losetup -d "$loopdev"; loopdev=""; fail "the boot partition is not consistent"; }
import hashlib, json, os, re, sys
boot, manifest_path = sys.argv[1], sys.argv[2]
images = os.path.join(boot, "iconograph")
cfg = open(os.path.join(boot, "grub", "grub.cfg")).read()
listed = re.findall(r'loopback loop "/iconograph/(\d+\.iso)"', cfg)
assert listed, "grub.cfg lists no image"
known = {str(i["timestamp"]) + ".iso": i["hash"] for i in json.load(open(manifest_path))["images"]}
for name in listed:
    path = os.path.join(images, name)
    assert os.path.isfile(path), f"grub.cfg names {name}, which is not on the disk"
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    assert known.get(name) == digest.hexdigest(), f"{name} does not match the manifest's hash"
current = os.readlink(os.path.join(images, "current"))
assert os.path.basename(current) in listed, f"current -> {current} is not in grub.cfg"
print(f"   boot partition consistent: grub.cfg lists {', '.join(listed)} (all verified), current -> {current}")
print(f"   files: {', '.join(sorted(os.listdir(images)))}")
PY
  umount "$work/mnt"
  losetup -d "$loopdev"
  loopdev=""
}

# ==============================================================================================

phase "1. CA, image v1, publish at 100 %, server"
"$icon" pki init "$ca" --name "E2E Fleet CA" > /dev/null
"$icon" pki issue --ca-dir "$ca" --role signer --name "E2E Signer" --out "$ca/signer" > /dev/null
"$icon" pki issue --ca-dir "$ca" --role server --name iconograph.test --dns iconograph.test \
  --ip 127.0.0.1 --ip 10.0.2.2 --out "$ca/server" > /dev/null
"$icon" pki issue --ca-dir "$ca" --role operator --name "E2E Operator" --out "$ca/operator" > /dev/null
# The machine's identity drive first: its id is the hostname its certificate must carry.
truncate -s 64M "$work/systemid.img"
"$icon" systemid image --device "$work/systemid.img" --db-dir "$work/systemid-db" --yes > "$work/systemid.log" 2>&1 \
  || { cat "$work/systemid.log"; fail "icon systemid image failed"; }
id=$(head -n 1 "$work/systemid-db/systemids" | tr -d '[:space:]')
[[ "$id" =~ ^[0-9a-f]{6}$ ]] || fail "no system id in $work/systemid-db/systemids"
step "system id $id"
"$icon" pki issue --ca-dir "$ca" --role device --name "$id" --dns "$id" --out "$ca/device" > /dev/null
step "building v1 ($t1)"
build_image $t1 "$work/build-v1.log" || { tail -20 "$work/build-v1.log"; fail "building v1 failed"; }
tail -n 4 "$work/build-v1.log"
publish $t1 > /dev/null
"$icon" server --listen "127.0.0.1:$port" --image-path "$work/images" --image-type "$type" \
  --cert "$ca/server.chain.pem" --key "$ca/server.key.pem" --client-ca-cert "$ca/root.cert.pem" \
  --state-dir "$work/state" > "$work/server.log" 2>&1 &
server=$!
pids+=("$server")
"$icon" wait-for-service --host 127.0.0.1 --service "$port" --timeout 30 > /dev/null || fail "the server did not start"
step "server on 127.0.0.1:$port (the machine reaches it as 10.0.2.2)"

phase "2. Image a disk, boot it, see its report"
truncate -s 4G "$work/disk.img"
"$icon" image --device "$work/disk.img" --persistent-percent 20 --base-url "https://127.0.0.1:$port" \
  --image-type "$type" --ca-cert "$ca/root.cert.pem" --https-ca-cert "$ca/root.cert.pem" \
  --https-client-cert "$ca/device.chain.pem" --https-client-key "$ca/device.key.pem" \
  --hostname "$id" --yes > "$work/image.log" 2>&1 || { cat "$work/image.log"; fail "icon image failed"; }
vm_start
# Build v2 while v1 boots: the root stage comes from the cache.
build_image $t2 "$work/build-v2.log" & builder=$!
pids+=("$builder")
expect_boot $t1
operator watch --host "$id" --until-timestamp $t1 --timeout "$(scaled 300)" > "$work/watch-v1.log" \
  || fail "no report of v1 on /ws/master"
step "/ws/master: $(tail -n 1 "$work/watch-v1.log")"
wait_report "m.get('running_timestamp') == $t1" 60 "$id runs v1"
# The image carries the release binary: its agent reports that version.
release_version=$("$release" --version)
wait_report "r.get('icon_version') == '$release_version'" 60 "the agent reports icon_version $release_version"
wait_report "$t1 in (r.get('good_images') or [])" 180 "v1 is marked good"

phase "3. v2: publish, push, download, reboot into it, persistent data kept"
wait "$builder" || { tail -20 "$work/build-v2.log"; fail "building v2 failed"; }
step "v2 built; its stages:"
tail -n 4 "$work/build-v2.log"
publish $t2 > /dev/null
wait_report "r.get('next_timestamp') == $t2" 600 "v2 downloaded and next in the menu"
# v3 and v4 are built while the machine works; they wait for their phases.
( build_image $t3 "$work/build-v3.log" --health-command /bin/false --health-timeout 30 \
    && build_image $t4 "$work/build-v4.log" ) & builder=$!
pids+=("$builder")
mark_console
operator reboot --host "$id" --timestamp $t2 || fail "reboot into v2 was refused"
expect_boot $t2
wait_report "m.get('running_timestamp') == $t2 and $t2 in (r.get('good_images') or [])" 300 "$id runs v2 and marked it good"

phase "4. Roll back by choice to v1, then forward to v2"
mark_console
operator reboot --host "$id" --timestamp $t1 || fail "reboot into v1 was refused"
expect_boot $t1
wait_report "m.get('running_timestamp') == $t1" 300 "$id runs v1 again"
mark_console
operator reboot --host "$id" --timestamp $t2 || fail "reboot into v2 was refused"
expect_boot $t2
wait_report "m.get('running_timestamp') == $t2" 300 "$id runs v2 again"
# Without a health command the agent marks the image good as soon as it starts (uptime is past
# --good-after by then); give it a few report intervals so v2 is the good image again.
sleep 15

phase "5. v3 fails its health check: automatic fallback to v2"
wait "$builder" || { tail -20 "$work/build-v3.log" "$work/build-v4.log" 2>/dev/null; fail "building v3/v4 failed"; }
publish $t3 > /dev/null
wait_report "r.get('next_timestamp') == $t3" 600 "v3 downloaded and next in the menu"
mark_console
operator reboot --host "$id" --timestamp $t3 || fail "reboot into v3 was refused"
expect_boot $t3
step "v3 runs; its health command fails, so the agent reboots it after --health-timeout"
expect_boot $t2 900
wait_report "m.get('running_timestamp') == $t2 and (r.get('last_rollback') or {}).get('failed') == $t3 and $t3 in (r.get('bad_images') or [])" 300 "$id fell back to v2 and reports v3 failed"
step "last_rollback: $(report_field "r.get('last_rollback')")"

phase "6. Power loss during a download, restart, update completes"
before=$(awk '/^rchar/ { print $2 }' "/proc/$server/io")
size=$(stat -c %s "$work/staging/$type/$t4.iso")
publish $t4 > /dev/null
waited=0
while :; do
  read_now=$(awk '/^rchar/ { print $2 }' "/proc/$server/io")
  [ $((read_now - before)) -gt $((32 * 1024 * 1024)) ] && break
  [ $waited -lt 3000 ] || fail "the machine did not start downloading v4 within 300 s"
  sleep 0.1; waited=$((waited + 1))
done
sleep "0.$((RANDOM % 10))"
read_now=$(awk '/^rchar/ { print $2 }' "/proc/$server/io")
kill -9 "$vm"; wait "$vm" 2>/dev/null || true; vm=""
step "QEMU killed after the server had read $(( (read_now - before) >> 20 )) of $((size >> 20)) MiB of v4"
[ $((read_now - before)) -lt "$size" ] || step "(the download may have finished before the kill)"
check_boot_partition
vm_start
expect_boot $t2
wait_report "r.get('next_timestamp') == $t4" 600 "the v4 update completed after the restart"
kill -9 "$vm"; wait "$vm" 2>/dev/null || true; vm=""
check_boot_partition
end_phase

echo
echo "e2e: all phases passed in $(( $(date +%s) - started )) s"
printf '%s\n' "${summary[@]}"

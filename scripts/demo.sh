#!/usr/bin/env bash
# The main job, end to end on this machine: a private CA, two real live images built with
# `icon build-image`, signed and published, served by the mTLS image server, a device-side
# fetch into a boot directory with its GRUB menu, and a staged rollout of the second image.
# (scripts/e2e.sh goes further: it boots the images in QEMU and upgrades, rolls back and
# falls back on a virtual machine.)
# Usage: sudo scripts/demo.sh            (work files go to out/demo, removed first)
# Environment: ICON_DEMO_PORT (server port, default 8443), ICON_DEMO_CACHE (image builder cache,
# default /var/cache/iconograph), ICON_DEMO_SERVE=1 (keep serving at the end until Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Building icon (release, the binary the images carry: scripts/build-release.sh)"
bash scripts/build-release.sh
icon=$PWD/dist/icon
demo=$PWD/out/demo
rm -rf "$demo"
mkdir -p "$demo"

step "Creating a private CA and one certificate per role"
"$icon" pki init "$demo/ca" --name "Demo Fleet CA" --organization "Iconograph Demo"
"$icon" pki issue --ca-dir "$demo/ca" --role signer --name "Demo Image Signer" --out "$demo/ca/signer"
"$icon" pki issue --ca-dir "$demo/ca" --role server --name localhost --dns localhost --ip 127.0.0.1 --out "$demo/ca/server"
"$icon" pki issue --ca-dir "$demo/ca" --role device --name demo-device --dns demo-device --out "$demo/ca/device"
"$icon" pki issue --ca-dir "$demo/ca" --role operator --name "Demo Operator" --out "$demo/ca/operator"

# Two real live images of Debian bookworm from the host's apt mirror. The first build
# bootstraps a root (a few minutes) and caches it; the second reuses it. Each image carries
# the `icon` agent, pointed at this server, and the persistent-partition mount.
build() {
  "$icon" build-image --image-path "$demo/build" --image-type demo --release bookworm --timestamp "$1" \
    --kernel-arg console=ttyS0,115200 --cache-dir "${ICON_DEMO_CACHE:-/var/cache/iconograph}" \
    --module "$icon module iconograph --server wss://localhost:${ICON_DEMO_PORT:-8443} --ca-cert $demo/ca/root.cert.pem \
      --https-ca-cert $demo/ca/root.cert.pem --https-client-cert $demo/ca/device.chain.pem \
      --https-client-key $demo/ca/device.key.pem --image-type demo" \
    --module "$icon module persistent"
  mv "$demo/build/demo/$1.iso" "$images/$1.iso"
}
images=$demo/images/demo
mkdir -p "$images"
now=$(date +%s)
step "Building image $now (Debian bookworm live ISO with the icon agent)"
build "$now"

step "Publishing the signed manifest (rollout 100% = 10000 basis points)"
"$icon" publish --image-dir "$images" --cert "$demo/ca/signer.cert.pem" --key "$demo/ca/signer.key.pem" \
  --other-cert "$demo/ca/intermediate.cert.pem" --default-rollout 10000

step "Starting the mTLS image server on 127.0.0.1"
"$icon" server --listen 127.0.0.1:${ICON_DEMO_PORT:-8443} --image-path "$demo/images" --image-type demo \
  --cert "$demo/ca/server.chain.pem" --key "$demo/ca/server.key.pem" --client-ca-cert "$demo/ca/root.cert.pem" \
  > "$demo/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
url=""
for _ in $(seq 1 100); do
  url=$(grep -oE 'https://127\.0\.0\.1:[0-9]+' "$demo/server.log" | head -1 || true)
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || { cat "$demo/server.log"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "demo: the server did not start"; cat "$demo/server.log"; exit 1; }
echo "  serving at $url"

step "Fetching the image this device is due for, as a device would"
boot=$demo/boot
mkdir -p "$boot/iconograph"
"$icon" fetch --base-url "$url/image/demo" --ca-cert "$demo/ca/root.cert.pem" \
  --https-ca-cert "$demo/ca/root.cert.pem" \
  --https-client-cert "$demo/ca/device.chain.pem" --https-client-key "$demo/ca/device.key.pem" \
  --image-dir "$boot/iconograph" --boot-dir "$boot" --hostname demo-device

step "Staged rollout: a new image (the root comes from the cache) published at 0 % reaches nobody..."
ts=$((now + 60))
build "$ts"
"$icon" publish --image-dir "$images" --cert "$demo/ca/signer.cert.pem" --key "$demo/ca/signer.key.pem" \
  --other-cert "$demo/ca/intermediate.cert.pem" --default-rollout 0
fetch() {
  "$icon" fetch --base-url "$url/image/demo" --ca-cert "$demo/ca/root.cert.pem" \
    --https-ca-cert "$demo/ca/root.cert.pem" \
    --https-client-cert "$demo/ca/device.chain.pem" --https-client-key "$demo/ca/device.key.pem" \
    --image-dir "$boot/iconograph" --boot-dir "$boot" --hostname demo-device
}
fetch

step "...until the operator widens its rollout to 100 %"
"$icon" rollout --image-dir "$images" --timestamp "$ts" --rollout 10000 \
  --cert "$demo/ca/signer.cert.pem" --key "$demo/ca/signer.key.pem" --other-cert "$demo/ca/intermediate.cert.pem"
fetch

step "Result"
ls -l "$boot/iconograph"
echo
echo "current -> $(readlink "$boot/iconograph/current")"
echo
echo "--- $boot/grub/grub.cfg ---"
cat "$boot/grub/grub.cfg"
echo
echo "demo: done. Work files are in $demo"
if [ -n "${ICON_DEMO_SERVE:-}" ]; then
  echo "demo: still serving $url (dashboard at $url/ with an operator certificate); Ctrl-C stops it"
  wait "$server"
fi

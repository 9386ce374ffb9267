#!/usr/bin/env bash
# The main job, end to end on this machine: a private CA, a few small signed images, an mTLS
# image server, and a device-side fetch into a boot directory with its GRUB menu.
# Usage: sudo scripts/demo.sh            (work files go to out/demo, removed first)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Building icon"
swift build --product icon 2>&1 | tail -1
icon=$PWD/.build/debug/icon
demo=$PWD/out/demo
rm -rf "$demo"
mkdir -p "$demo"

step "Creating a private CA and one certificate per role"
"$icon" pki init "$demo/ca" --name "Demo Fleet CA" --organization "Iconograph Demo"
"$icon" pki issue --ca-dir "$demo/ca" --role signer --name "Demo Image Signer" --out "$demo/ca/signer"
"$icon" pki issue --ca-dir "$demo/ca" --role server --name localhost --dns localhost --ip 127.0.0.1 --out "$demo/ca/server"
"$icon" pki issue --ca-dir "$demo/ca" --role device --name demo-device --dns demo-device --out "$demo/ca/device"
"$icon" pki issue --ca-dir "$demo/ca" --role operator --name "Demo Operator" --out "$demo/ca/operator"

step "Making three small ISO images (image type 'demo')"
images=$demo/images/demo
mkdir -p "$images"
now=$(date +%s)
for i in 2 1 0; do
  ts=$((now - i * 3600))
  mkdir -p "$demo/src/$ts"
  echo "demo image $ts" > "$demo/src/$ts/README"
  xorriso -as mkisofs -quiet -V "DEMO_$ts" -o "$images/$ts.iso" "$demo/src/$ts" 2>/dev/null
  echo "  $images/$ts.iso"
done

step "Publishing the signed manifest (rollout 100% = 10000 basis points)"
"$icon" publish --image-dir "$images" --cert "$demo/ca/signer.cert.pem" --key "$demo/ca/signer.key.pem" \
  --other-cert "$demo/ca/intermediate.cert.pem" --default-rollout 10000

step "Starting the mTLS image server on 127.0.0.1"
"$icon" server --listen 127.0.0.1:0 --image-path "$demo/images" --image-type demo \
  --cert "$demo/ca/server.chain.pem" --key "$demo/ca/server.key.pem" --ca-cert "$demo/ca/root.cert.pem" \
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

step "Staged rollout: a new image published at 0 % reaches nobody..."
ts=$((now + 60))
mkdir -p "$demo/src/$ts"; echo "demo image $ts" > "$demo/src/$ts/README"
xorriso -as mkisofs -quiet -V "DEMO_$ts" -o "$images/$ts.iso" "$demo/src/$ts" 2>/dev/null
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

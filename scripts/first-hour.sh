#!/usr/bin/env bash
# The operator's first hour, the way a newcomer takes it: the README's commands exactly as they
# are written there (each one is checked to appear in README.md, line continuations joined), with
# the README's paths (/etc/icon, /srv/icon, /var/lib/icon, /boot) and names (images.example.net at
# 192.0.2.10, port 8443, hostname "vm"), and the mistakes newcomers make on the way. Each mistake
# must fail with one line that names the fix and leave every file as it was; each README command
# must do what the README says, checked the way a user checks it (the machine accepts the
# manifest, the machine shows up in the inventory, the operator sees its report).
#
# It runs in private mount, network and UTS namespaces: /etc, /srv, /var/lib and /boot are
# overlays whose changes go to a tmpfs, the network has only loopback, so nothing on the host
# changes and no port of the host is used.
# Usage: sudo scripts/first-hour.sh [PATH/TO/icon]      (default .build/debug/icon)
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

if [ "${1:-}" != "--inside" ]; then
  icon=$(readlink -f "${1:-$repo/.build/debug/icon}")
  [ "$(id -u)" -eq 0 ] || { echo "first-hour: needs root (namespaces, overlay mounts)" >&2; exit 1; }
  [ -x "$icon" ] || { echo "first-hour: no icon binary at $icon (run swift build first)" >&2; exit 1; }
  for tool in unshare ip curl xorriso python3; do
    command -v "$tool" >/dev/null || { echo "first-hour: $tool is missing (sudo scripts/setup.sh)" >&2; exit 1; }
  done
  exec unshare --mount --net --uts --fork --propagation private bash "$0" --inside "$icon"
fi
icon=$2
started=$(date +%s)

# --- a private copy of the machine --------------------------------------------------------------
scratch=$(mktemp -d /tmp/icon-first-hour.XXXXXX)
mount -t tmpfs -o mode=0700 tmpfs "$scratch"
for dir in /etc /srv /var/lib /boot; do
  [ -d "$dir" ] || { echo "first-hour: $dir does not exist on this machine" >&2; exit 1; }
  mkdir -p "$scratch/overlay$dir/upper" "$scratch/overlay$dir/work"
  mount -t overlay overlay -o "lowerdir=$dir,upperdir=$scratch/overlay$dir/upper,workdir=$scratch/overlay$dir/work" "$dir"
done
rm -rf /etc/icon /srv/icon /var/lib/icon /boot/iconograph /boot/grub /boot/iconograph-boot /etc/iconograph.json
ip link set lo up
ip addr add 192.0.2.10/32 dev lo
echo "192.0.2.10 images.example.net" >> /etc/hosts
hostname vm
mkdir -p "$scratch/bin"
ln -s "$icon" "$scratch/bin/icon"
export PATH="$scratch/bin:$PATH"
log=$scratch/logs
mkdir -p "$log"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
}
trap cleanup EXIT

passed=0
failed=0
step() { printf '\n\033[1m== %s\033[0m [%d s]\n' "$*" "$(( $(date +%s) - started ))"; }
ok() { passed=$((passed + 1)); echo "   ok: $*"; }
fail() { failed=$((failed + 1)); echo "   FAIL: $*"; }

# The README's text with line continuations joined and runs of blanks squeezed, so a command can
# be matched however the README wraps and aligns it.
normalize() { sed -e ':a' -e '/\\$/N; s/\\\n//; ta' | tr -s ' \t' '  '; }
readme_text=$(normalize < README.md)

# readme [EXTRA...] <<'EOF' COMMAND EOF: checks COMMAND is in README.md as written, then runs it
# (with EXTRA flags appended, for what only a test may change: a reboot command, a short
# interval) under bash; its output is in $out and $err, its status in $status.
readme() {
  local command
  command=$(normalize)
  if [[ "$readme_text" == *"$command"* ]]; then ok "README: ${command:0:90}..."; else fail "not in README.md as written: $command"; fi
  run "$command $*"
}
# run COMMAND: runs it under bash, output in $out and $err, status in $status.
run() {
  out=$(bash -c "$1" 2>"$scratch/stderr"); status=$?
  err=$(cat "$scratch/stderr")
}
# expect_ok WHAT: the last command exited 0.
expect_ok() {
  if [ "$status" -eq 0 ]; then ok "$1"; else fail "$1: exit $status: $err"; fi
}
# expect_refusal WHAT NEEDLE: the last command exited non-zero with one line on stderr, starting
# "icon: " and containing NEEDLE (the fix).
expect_refusal() {
  local lines
  lines=$(printf '%s\n' "$err" | grep -c .)
  if [ "$status" -ne 0 ] && [ "$lines" -eq 1 ] && [[ "$err" == "icon: "* ]] && [[ "$err" == *"$2"* ]]; then
    ok "$1: $err"
  else
    fail "$1: exit $status, stderr (want one line naming '$2'): $err"
  fi
}
# expect_usage WHAT FLAG: the last command exited 64 with ArgumentParser's mistake as every
# subcommand prints it: "icon: usage: ..." naming FLAG, then the usage line.
expect_usage() {
  local first second
  first=$(printf '%s\n' "$err" | sed -n 1p); second=$(printf '%s\n' "$err" | sed -n 2p)
  if [ "$status" -eq 64 ] && [[ "$first" == "icon: usage: "*"$2"* ]] && [[ "$second" == "Usage: icon "* ]]; then
    ok "$1: $first"
  else
    fail "$1: exit $status, stderr (want a usage line naming '$2'): $err"
  fi
}
# unchanged FILE SNAPSHOT: FILE is byte-identical to SNAPSHOT (or both are missing).
snapshot() { if [ -e "$1" ]; then cp -a "$1" "$scratch/snapshot.$(basename "$1")"; else rm -f "$scratch/snapshot.$(basename "$1")"; fi; }
unchanged() {
  local saved=$scratch/snapshot.$(basename "$1")
  if [ ! -e "$1" ] && [ ! -e "$saved" ]; then ok "$1 still absent"; return; fi
  if cmp -s "$1" "$saved"; then ok "$1 unchanged"; else fail "$1 changed"; fi
}
# wait_for FILE PATTERN SECONDS: until FILE contains PATTERN (grep -E).
wait_for() {
  local deadline=$(( $(date +%s) + $3 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
# A live ISO's stand-in: a real ISO 9660 image with a volume id (icon build-image writes the same
# kind of file, but takes minutes; the image build and boot tests cover that).
make_iso() {
  mkdir -p "$scratch/iso-root"
  echo "$2" > "$scratch/iso-root/README"
  xorriso -as mkisofs -quiet -V "$2" -o "$1" "$scratch/iso-root" 2>/dev/null
}

# --- certificates -------------------------------------------------------------------------------
step "A private CA and one certificate per role (README: Certificates)"
readme <<'EOF'
icon pki init /etc/icon/ca --name "Example Fleet CA" --organization "Example Robotics"
EOF
expect_ok "icon pki init"
for role in signer server device operator; do
  case $role in
    signer) readme <<'EOF'
icon pki issue --ca-dir /etc/icon/ca --role signer   --name "Image Signer"        --out /etc/icon/signer
EOF
    ;;
    server) readme <<'EOF'
icon pki issue --ca-dir /etc/icon/ca --role server   --name images.example.net \
               --dns images.example.net --ip 192.0.2.10                          --out /etc/icon/server
EOF
    ;;
    device) readme <<'EOF'
icon pki issue --ca-dir /etc/icon/ca --role device   --name robot-17 --dns robot-17 --out /etc/icon/robot-17
EOF
    ;;
    operator) readme <<'EOF'
icon pki issue --ca-dir /etc/icon/ca --role operator --name "Alice Operator"      --out /etc/icon/alice
EOF
    ;;
  esac
  expect_ok "icon pki issue --role $role"
done
readme <<'EOF'
icon pki verify --ca-cert /etc/icon/ca/root.cert.pem --other-cert /etc/icon/ca/intermediate.cert.pem \
                --purpose signing /etc/icon/signer.cert.pem
EOF
expect_ok "icon pki verify: the signer chains to the root"
modes=$(stat -c '%a' /etc/icon/ca/root.key.pem /etc/icon/signer.key.pem /etc/icon/robot-17.key.pem /etc/icon/alice.key.pem /etc/icon/alice.p12 | sort -u)
[ "$modes" = "600" ] && ok "keys and the operator's .p12 are mode 0600" || fail "key modes: $modes"

# --- images and the manifest --------------------------------------------------------------------
step "Publishing: the mistakes first, then the README's publish (README: Publishing images)"
images=/srv/icon/images/robot
mkdir -p "$images"
make_iso "$images/1459629717.iso" ROBOT_V1
make_iso "$images/1700000000.iso" ROBOT_V2
publish="icon publish --image-dir $images --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem --other-cert /etc/icon/ca/intermediate.cert.pem"
snapshot "$images/manifest.json"
run "icon publish --image-dir $images --cert /etc/icon/robot-17.cert.pem --key /etc/icon/robot-17.key.pem --other-cert /etc/icon/ca/intermediate.cert.pem"
expect_refusal "publish signed with the device certificate" "icon pki issue --role signer"
unchanged "$images/manifest.json"
run "icon publish --image-dir $images --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem"
expect_refusal "publish without the intermediate" "--other-cert /etc/icon/ca/intermediate.cert.pem"
unchanged "$images/manifest.json"
run "${publish/--image-dir $images/--image-dir /srv/icon/images}"
expect_refusal "publish on the parent directory" "did you mean --image-dir /srv/icon/images/robot"
[ ! -e /srv/icon/images/manifest.json ] && ok "no stray manifest in /srv/icon/images" || fail "a stray /srv/icon/images/manifest.json was written"
mkdir -p "$scratch/misnamed"
make_iso "$scratch/misnamed/robot-v1.iso" ROBOT_MISNAMED
run "${publish/--image-dir $images/--image-dir $scratch/misnamed}"
expect_refusal "publish of a misnamed ISO" "robot-v1.iso"
[ ! -e "$scratch/misnamed/manifest.json" ] && ok "no manifest beside robot-v1.iso" || fail "a manifest was written beside robot-v1.iso"

readme <<'EOF'
icon publish --image-dir /srv/icon/images/robot \
  --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem \
  --other-cert /etc/icon/ca/intermediate.cert.pem \
  --ca-cert /etc/icon/ca/root.cert.pem \
  --default-rollout 0 --max-images 10
EOF
expect_ok "icon publish"
readme <<'EOF'
icon rollout --image-dir /srv/icon/images/robot --timestamp 1459629717 --rollout 2500 \
  --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem \
  --other-cert /etc/icon/ca/intermediate.cert.pem
EOF
expect_ok "icon rollout to 2500"
# Then all the way, so robot-17 takes the image whatever its rollout value.
run "icon rollout --image-dir $images --timestamp 1459629717 --rollout 10000 --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem --other-cert /etc/icon/ca/intermediate.cert.pem"
expect_ok "icon rollout to 10000"
readme <<'EOF'
icon verify-manifest --ca-cert /etc/icon/ca/root.cert.pem --hostname robot-17 \
  /srv/icon/images/robot/manifest.json
EOF
expect_ok "icon verify-manifest: the machines accept the manifest"
[[ "$out" == *"robot-17 would choose 1459629717.iso"* ]] && ok "robot-17 would choose 1459629717.iso" || fail "verify-manifest says: $out"
run "icon verify-manifest --ca-cert /etc/icon/ca/root.cert.pem --hostname robot-17 $images/manifest.json.unsigned"
expect_refusal "verify-manifest on the unsigned manifest" "pass manifest.json"

# --- the server ---------------------------------------------------------------------------------
step "The server, as the README starts it (README: Serving images and the fleet)"
readme "> $log/server.log 2>&1 & echo \$! > $scratch/server.pid" <<'EOF'
icon server --listen 0.0.0.0:8443 --image-path /srv/icon/images --image-type robot \
  --cert /etc/icon/server.chain.pem --key /etc/icon/server.key.pem \
  --client-ca-cert /etc/icon/ca/root.cert.pem --state-dir /var/lib/icon
EOF
pids+=("$(cat "$scratch/server.pid")")
if wait_for "$log/server.log" "listening on https://0.0.0.0:8443" 60; then ok "the server listens"; else fail "the server did not start: $(tail -5 "$log/server.log")"; fi

# --- fetching on a machine ----------------------------------------------------------------------
step "Fetching on a machine: the mistakes first, then the README's fetch (README: Fetching on a machine)"
fetch_flags="--ca-cert /etc/icon/ca/root.cert.pem --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/robot-17.key.pem --image-dir /boot/iconograph --boot-dir /boot"
run "icon fetch --base-url http://images.example.net:8443/image/robot $fetch_flags"
expect_refusal "fetch with http:// from the HTTPS server" "https://"
run "icon fetch --base-url https://images.example.net:8443 $fetch_flags"
expect_refusal "fetch with a base URL without /image/<type>" "/image/"
run "icon fetch --base-url https://images.example.net:8443/image/robot ${fetch_flags/robot-17.key.pem/alice.key.pem}"
expect_refusal "fetch with a key that is not the certificate's" "does not match"
mkdir -p /boot/grub
printf '#\n# DO NOT EDIT THIS FILE\n#\n# It is automatically generated by grub-mkconfig using templates\n# from /etc/grub.d and settings from /etc/default/grub\n#\nmenuentry "Debian GNU/Linux" { linux /vmlinuz root=/dev/sda1 }\n' > /boot/grub/grub.cfg
snapshot /boot/grub/grub.cfg
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags"
expect_refusal "fetch into a /boot whose menu is the host's own" "not written by Iconograph"
unchanged /boot/grub/grub.cfg
[ ! -e /boot/iconograph ] && ok "none of the failed fetches left anything in /boot" || fail "/boot/iconograph was created: $(ls -la /boot/iconograph)"
rm -rf /boot/grub

readme <<'EOF'
icon fetch --base-url https://images.example.net:8443/image/robot \
  --ca-cert /etc/icon/ca/root.cert.pem \
  --https-ca-cert /etc/icon/ca/root.cert.pem \
  --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/robot-17.key.pem \
  --image-dir /boot/iconograph --boot-dir /boot
EOF
expect_ok "icon fetch"
[ "$(readlink /boot/iconograph/current)" = "1459629717.iso" ] && ok "current -> 1459629717.iso" || fail "current is $(readlink /boot/iconograph/current)"
grep -q "icon-1459629717" /boot/grub/grub.cfg && ok "the boot menu lists the image" || fail "grub.cfg: $(head -20 /boot/grub/grub.cfg)"

# --- the agent ----------------------------------------------------------------------------------
step "The agent on a machine whose hostname (vm) is not its certificate's (README: The device agent)"
# What every image carries (icon build-image writes it).
echo '{"image_type": "robot", "timestamp": 1459629717, "volume_id": "ROBOT_V1"}' > /etc/iconograph.json
run "icon agent --server wss://images.example.net:8443 --ca-cert /etc/icon/ca/root.cert.pem --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/robot-17.key.pem"
expect_usage "agent without --image-dir and --boot-dir" "--image-dir"
run "timeout 20 icon agent --server wss://images.example.net:8443 --ca-cert /etc/icon/ca/root.cert.pem --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/alice.key.pem --image-dir /boot/iconograph --boot-dir /boot"
expect_refusal "agent with a key that is not the certificate's exits at once" "does not match"
# Only the test changes how the machine reboots (never this host) and how often it reports.
readme "--reboot-command /bin/true --report-interval 1 > $log/agent.log 2>&1 & echo \$! > $scratch/agent.pid" <<'EOF'
icon agent --server wss://images.example.net:8443 \
  --ca-cert /etc/icon/ca/root.cert.pem --https-ca-cert /etc/icon/ca/root.cert.pem \
  --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/robot-17.key.pem \
  --image-dir /boot/iconograph --boot-dir /boot
EOF
pids+=("$(cat "$scratch/agent.pid")")
manifest_gets_before=$(grep -c "GET /image/robot/manifest.json 200 CN=robot-17" "$log/server.log")
machine_json() {
  curl -sS --cacert /etc/icon/ca/root.cert.pem --cert /etc/icon/alice.chain.pem --key /etc/icon/alice.key.pem \
    https://images.example.net:8443/api/machines 2>&1
}
deadline=$(( $(date +%s) + 60 ))
until machine_json | grep -q '"hostname":"robot-17"' || [ "$(date +%s)" -ge "$deadline" ]; do sleep 0.5; done
readme <<'EOF'
curl --cacert /etc/icon/ca/root.cert.pem --cert /etc/icon/alice.chain.pem --key /etc/icon/alice.key.pem \
  https://images.example.net:8443/api/machines
EOF
if printf '%s' "$out" | python3 -c '
import json, sys
machines = {m["hostname"]: m for m in json.load(sys.stdin)["machines"]}
m = machines["robot-17"]
assert m["image_type"] == "robot", m
assert m["running_timestamp"] == 1459629717 and m["next_timestamp"] == 1459629717, m
assert m["connected"] is True, m
assert "vm" not in machines, machines.keys()
'; then ok "robot-17 is in the inventory under its certificate's name, as a robot running 1459629717"
else fail "the inventory does not show robot-17 as expected: $out (agent log: $(tail -5 "$log/agent.log"))"; fi

# On connecting, the agent checks for a newer manifest (it catches up on pushes it missed).
if [ "$(grep -c "GET /image/robot/manifest.json 200 CN=robot-17" "$log/server.log")" -gt "$manifest_gets_before" ]; then
  ok "the agent checked the manifest when it connected"
else
  fail "the agent did not check the manifest on connecting (agent log: $(tail -5 "$log/agent.log"))"
fi

run "timeout 15 icon agent --server wss://images.example.net:8443 --ca-cert /etc/icon/ca/root.cert.pem --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/robot-17.key.pem --image-dir /boot/iconograph --boot-dir /boot --reboot-command /bin/true --hostname vm --report-interval 1"
if [[ "$err" == *"error"*"report as 'vm' refused: the certificate names robot-17"* ]]; then
  ok "an agent reporting under a name its certificate does not carry is told why, as an error"
else
  fail "the wrongly named agent did not log the server's reason: $(printf '%s\n' "$err" | tail -5)"
fi

# --- operators ----------------------------------------------------------------------------------
step "Operators: a device certificate is refused with the reason; the README's operator commands"
run "icon operator watch --server wss://images.example.net:8443 --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/robot-17.chain.pem --https-client-key /etc/icon/robot-17.key.pem --timeout 10"
expect_refusal "operator watch with the device's certificate" "needs an operator certificate"
api=$(curl -sS --cacert /etc/icon/ca/root.cert.pem --cert /etc/icon/robot-17.chain.pem --key /etc/icon/robot-17.key.pem \
  -w ' %{http_code}' https://images.example.net:8443/api/machines 2>&1)
[[ "$api" == *"needs an operator certificate; CN=robot-17"*" 403" ]] && ok "/api answers a device 403 with the reason: $api" || fail "/api for a device: $api"

readme "--host robot-17 --until-timestamp 1459629717 --timeout 30" <<'EOF'
icon operator watch --server wss://images.example.net:8443 \
  --https-ca-cert /etc/icon/ca/root.cert.pem \
  --https-client-cert /etc/icon/alice.chain.pem --https-client-key /etc/icon/alice.key.pem
EOF
expect_ok "operator watch sees robot-17 running 1459629717"
run "icon operator watch --server wss://192.0.2.10:8443 --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/alice.chain.pem --https-client-key /etc/icon/alice.key.pem --host robot-17 --until-timestamp 1459629717 --timeout 30"
expect_ok "operator watch by IP address (the server certificate carries 192.0.2.10)"
readme <<'EOF'
icon operator reboot --server wss://images.example.net:8443 \
  --https-ca-cert /etc/icon/ca/root.cert.pem \
  --https-client-cert /etc/icon/alice.chain.pem --https-client-key /etc/icon/alice.key.pem \
  --host robot-17 --timestamp 1700000000
EOF
expect_ok "operator reboot into 1700000000"
[[ "$out" == *"robot-17: Rebooting into 1700000000..."* ]] && ok "the machine answered: $out" || fail "operator reboot printed: $out"
[ "$(readlink /boot/iconograph/current)" = "1700000000.iso" ] && ok "the machine fetched 1700000000 and made it current" || fail "current is $(readlink /boot/iconograph/current)"

# --- expiry and the version floor ---------------------------------------------------------------
step "Expiry and the version floor (README: Expiry and the version floor)"
operator_flags="--server wss://images.example.net:8443 --https-ca-cert /etc/icon/ca/root.cert.pem --https-client-cert /etc/icon/alice.chain.pem --https-client-key /etc/icon/alice.key.pem"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem --min-timestamp 1700000000"
expect_ok "icon publish --min-timestamp 1700000000"
[[ "$out" == *"expires "*"; version floor 1700000000"* ]] && ok "publish prints the expiry and the floor: ${out##*$'\n'}" || fail "publish printed: $out"
run "icon operator reboot $operator_flags --host robot-17 --timestamp 1459629717"
[ "$status" -eq 1 ] && [[ "$out$err" == *"Cannot reboot into 1459629717: below-floor: image 1459629717 is older than the version floor 1700000000"* ]] \
  && ok "a reboot into an image below the floor is refused, and the operator is told why" \
  || fail "operator reboot below the floor: exit $status: $out $err"
[ "$(readlink /boot/iconograph/current)" = "1700000000.iso" ] && ok "current still names 1700000000.iso" || fail "current is $(readlink /boot/iconograph/current)"
[ "$(cat /boot/iconograph/min_timestamp 2>/dev/null)" = "1700000000" ] && ok "the floor is kept on BOOT" || fail "/boot/iconograph/min_timestamp: $(cat /boot/iconograph/min_timestamp 2>&1)"
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags --timestamp 1459629717"
expect_refusal "icon fetch --timestamp below the floor" "older than the version floor 1700000000"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem --min-timestamp 1459629717"
expect_refusal "a publish that would lower the floor" "a floor only rises"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem --expires-in 2s"
expect_ok "icon publish --expires-in 2s"
# The agent follows the server's push at once; by the time the manifest has expired it is done.
sleep 3
snapshot_boot=$(cd /boot/iconograph && ls -l --time-style=+%s.%N; sha256sum manifest.json)
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags"
expect_refusal "icon fetch of an expired manifest" "the publisher must sign it again"
[[ "$err" == "icon: expired: https://images.example.net:8443/image/robot/manifest.json rejected: expired: the manifest expired at "* ]] \
  && ok "the refusal names the URL and both times" || fail "expired refusal: $err"
[ "$(cd /boot/iconograph && ls -l --time-style=+%s.%N; sha256sum manifest.json)" = "$snapshot_boot" ] && ok "the refused fetch left /boot/iconograph as it was" || fail "/boot/iconograph changed"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem"
expect_ok "publishing again re-signs with the default 30 days"
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags"
expect_ok "the re-signed manifest is accepted"

# --- two signers --------------------------------------------------------------------------------
step "Two signers: k-of-n signing (README: Several signers)"
run 'icon pki issue --ca-dir /etc/icon/ca --role signer --name "Second Signer" --out /etc/icon/signer2'
expect_ok "icon pki issue a second signer"
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags --signature-threshold 2"
expect_refusal "a machine that needs two signatures refuses a manifest with one" "--signature-threshold 2 needs 2"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem --cert /etc/icon/signer2.cert.pem --key /etc/icon/signer2.key.pem"
expect_ok "icon publish with two --cert/--key pairs"
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags --signature-threshold 2"
expect_ok "a machine that needs two signatures takes it"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem"
expect_ok "icon publish with the first signer alone"
readme <<'EOF'
icon publish --sign-only --image-dir /srv/icon/images/robot \
  --cert /etc/icon/signer2.cert.pem --key /etc/icon/signer2.key.pem \
  --other-cert /etc/icon/ca/intermediate.cert.pem
EOF
expect_ok "the second signer adds a signature with --sign-only"
[[ "$out" == *"now carries 2 signature(s), each verified"* ]] && ok "sign-only says: $out" || fail "sign-only printed: $out"
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags --signature-threshold 2"
expect_ok "the manifest signed on two machines is taken with --signature-threshold 2"

# --- revocation ---------------------------------------------------------------------------------
step "Revoking a stolen signer (README: Signer revocation)"
readme <<'EOF'
icon pki revoke --ca-dir /etc/icon/ca /etc/icon/signer.cert.pem
EOF
expect_ok "icon pki revoke"
[[ "$out" == *"CRL number 1, 1 revoked"* ]] && ok "revoke says: $out" || fail "revoke printed: $out"
run "$publish --ca-cert /etc/icon/ca/root.cert.pem --crl /etc/icon/ca/crl.pem"
expect_refusal "publishing with the revoked signer and the list" "revoked: the signer CN=Image Signer"
readme <<'EOF'
icon publish --image-dir /srv/icon/images/robot --crl /etc/icon/ca/crl.pem \
  --cert /etc/icon/signer2.cert.pem --key /etc/icon/signer2.key.pem \
  --other-cert /etc/icon/ca/intermediate.cert.pem
EOF
expect_ok "the second signer publishes with the list"
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags"
expect_ok "the machine takes the second signer's manifest"
[ -s /boot/iconograph/revocations.pem ] && ok "the machine keeps the list on BOOT" || fail "no /boot/iconograph/revocations.pem"
# An attacker with the stolen key, leaving the list out.
mkdir -p "$scratch/attack/robot"
cp /srv/icon/images/robot/*.iso "$scratch/attack/robot/"
run "icon publish --image-dir $scratch/attack/robot --cert /etc/icon/signer.cert.pem --key /etc/icon/signer.key.pem --other-cert /etc/icon/ca/intermediate.cert.pem --ca-cert /etc/icon/ca/root.cert.pem"
expect_ok "the stolen key still signs (publish cannot know the list)"
cp "$scratch/attack/robot/manifest.json" /srv/icon/images/robot/manifest.json
run "icon fetch --base-url https://images.example.net:8443/image/robot $fetch_flags"
expect_refusal "the stolen signer's manifest without the list" "revoked: the signer CN=Image Signer"

page=$(curl -sS --cacert /etc/icon/ca/root.cert.pem --cert /etc/icon/alice.chain.pem --key /etc/icon/alice.key.pem \
  -w ' %{http_code} %{content_type}' https://images.example.net:8443/ 2>&1)
[[ "$page" == *"Iconograph fleet"*" 200 text/html"* ]] && ok "the dashboard page is served to the operator" || fail "GET /: ${page: -200}"

echo
echo "first-hour: $passed passed, $failed failed in $(( $(date +%s) - started )) s"
[ "$failed" -eq 0 ]

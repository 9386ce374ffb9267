#!/usr/bin/env bash
# Command-line checks of the built `icon`: every subcommand has --help, and bad input gives
# one line naming the thing at fault with a non-zero exit. Prints "N passed, N failed".
# Usage: scripts/cli-checks.sh PATH/TO/icon
set -uo pipefail
icon=${1:?usage: cli-checks.sh PATH/TO/icon}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0; failed=0

ok()   { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# expect_error NEEDLE -- ARGS...: exits non-zero, stderr is one line containing NEEDLE.
expect_error() {
  local needle=$1; shift; [ "$1" = "--" ] && shift
  local err status
  err=$("$icon" "$@" 2>&1 >/dev/null); status=$?
  if [ $status -eq 0 ]; then fail "icon $* succeeded"; return; fi
  if [ "$(printf '%s\n' "$err" | grep -c .)" -ne 1 ]; then fail "icon $*: not one line: $err"; return; fi
  if [[ "$err" != *"$needle"* ]]; then fail "icon $*: '$err' does not name '$needle'"; return; fi
  ok
}

# Every command listed by `icon help` has a working --help with a usage line.
commands=$("$icon" --help | awk '/^SUBCOMMANDS:/{f=1;next} f && /^  [a-z]/{print $1}')
# The loops below check what `icon --help` lists: a broken top-level help must not make them
# check nothing.
if [ "$(wc -w <<<"$commands")" -ge 15 ]; then ok; else fail "icon --help lists $(wc -w <<<"$commands") subcommands, expected at least 15"; fi
for cmd in $commands; do
  # Captured first: `grep -q` stops reading at the first match, and under pipefail the
  # writer's SIGPIPE on a long help text would count as a failure.
  help=$("$icon" "$cmd" --help)
  if grep -q "^USAGE: icon $cmd" <<<"$help"; then ok; else fail "icon $cmd --help"; fi
done
# A command-line mistake looks the same in every subcommand: one line "icon: usage: ..." that
# names the flag and the subcommand's --help, then its usage line; exit status 64. Checked on
# every leaf command with an unknown flag (nothing runs).
leaves=()
for cmd in $commands; do
  subs=$("$icon" "$cmd" --help | awk '/^SUBCOMMANDS:/{f=1;next} f && /^  [a-z]/{print $1}')
  if [ -z "$subs" ]; then leaves+=("$cmd"); else for sub in $subs; do leaves+=("$cmd $sub"); done; fi
done
for leaf in "${leaves[@]}"; do
  # shellcheck disable=SC2086
  err=$("$icon" $leaf --no-such-flag 2>&1 >/dev/null); status=$?
  first=$(printf '%s\n' "$err" | sed -n 1p); second=$(printf '%s\n' "$err" | sed -n 2p)
  if [ $status -eq 64 ] && [ "$(printf '%s\n' "$err" | grep -c .)" -eq 2 ] \
    && [[ "$first" == "icon: usage: "*"(see 'icon $leaf --help')" ]] && [[ "$second" == "Usage: icon $leaf"* ]]; then
    ok
  else
    fail "icon $leaf --no-such-flag: status $status, not one usage line plus usage: $err"
  fi
done
err=$("$icon" publish --image-dir "$work" 2>&1 >/dev/null)
[[ "$(printf '%s\n' "$err" | sed -n 1p)" == "icon: usage: Missing expected argument '--cert <file>'"* ]] && ok \
  || fail "icon publish without --cert: $err"

version=$("$icon" --version)
grep -qE '^[0-9]+\.[0-9]+\.[0-9]+' <<<"$version" && ok || fail "icon --version"

# Bad input names the file, flag or URL.
"$icon" pki init "$work/ca" >/dev/null && ok || fail "icon pki init"
"$icon" pki issue --ca-dir "$work/ca" --role signer --name "Signer" --out "$work/signer" >/dev/null && ok || fail "icon pki issue"
# A one-letter prefix in the working directory (Foundation's path code once crashed on it).
(icon_path=$(realpath "$icon") && cd "$work" && "$icon_path" pki issue --ca-dir ca --role signer --name "Short" --out s >/dev/null) && [ -f "$work/s.key.pem" ] && ok \
  || fail "icon pki issue --out s"
mkdir -p "$work/images"
expect_error "$work/missing.key.pem" -- publish --image-dir "$work/images" --cert "$work/signer.cert.pem" --key "$work/missing.key.pem"
expect_error "$work/nope" -- publish --image-dir "$work/nope" --cert "$work/signer.cert.pem" --key "$work/signer.key.pem"
expect_error "$work/ca/root.key.pem" -- publish --image-dir "$work/images" --cert "$work/signer.cert.pem" --key "$work/ca/root.key.pem"
expect_error "--expires-in takes a positive whole number with a unit" -- publish --image-dir "$work/images" --cert "$work/signer.cert.pem" --key "$work/signer.key.pem" --expires-in 5x
expect_error "--expires-in takes a positive whole number with a unit" -- rollout --image-dir "$work/images" --timestamp 1 --rollout 100 --cert "$work/signer.cert.pem" --key "$work/signer.key.pem" --expires-in 0d
expect_error "--rollout" -- rollout --image-dir "$work/images" --timestamp 1 --rollout 20000 --cert "$work/signer.cert.pem" --key "$work/signer.key.pem"
expect_error "$work/none.json" -- verify-manifest --ca-cert "$work/ca/root.cert.pem" "$work/none.json"
expect_error "$work/missing.pem" -- server --image-path "$work/images" --image-type x --cert "$work/ca/root.cert.pem" --key "$work/missing.pem" --ca-cert "$work/ca/root.cert.pem" --listen 127.0.0.1:0
if grep -qx 'fetch' <<<"$commands"; then ok; else fail "icon --help does not list fetch"; fi
if grep -qx 'fetch' <<<"$commands"; then
  expect_error "127.0.0.1:9" -- fetch --base-url https://127.0.0.1:9/image/x --ca-cert "$work/ca/root.cert.pem" --image-dir "$work"
  expect_error "--boot-tries" -- fetch --base-url https://127.0.0.1:9/image/x --ca-cert "$work/ca/root.cert.pem" --image-dir "$work" --boot-tries 0
  expect_error "ftp://" -- fetch --base-url ftp://example.invalid/x --ca-cert "$work/ca/root.cert.pem" --image-dir "$work"
fi
expect_error "$work/no-ca" -- pki issue --ca-dir "$work/no-ca" --role device --name x --out "$work/x"
expect_error "$work/ca" -- pki init "$work/ca"

expect_error "--timeout" -- wait-for-service --host 127.0.0.1 --service 9 --timeout=-1
expect_error "127.0.0.1:9" -- wait-for-service --host 127.0.0.1 --service 9 --timeout 0.3
expect_error "http://x" -- agent --server http://x --ca-cert "$work/ca/root.cert.pem" --https-ca-cert "$work/ca/root.cert.pem" \
  --https-client-cert "$work/signer.cert.pem" --https-client-key "$work/signer.key.pem" --image-type demo --image-dir "$work/boot/iconograph" --boot-dir "$work/boot"
expect_error "--boot-tries" -- agent --server wss://x:1 --ca-cert "$work/ca/root.cert.pem" --https-ca-cert "$work/ca/root.cert.pem" \
  --https-client-cert "$work/signer.cert.pem" --https-client-key "$work/signer.key.pem" --image-type demo --image-dir "$work/boot/iconograph" --boot-dir "$work/boot" --boot-tries 10
expect_error "--health-timeout" -- agent --server wss://x:1 --ca-cert "$work/ca/root.cert.pem" --https-ca-cert "$work/ca/root.cert.pem" \
  --https-client-cert "$work/signer.cert.pem" --https-client-key "$work/signer.key.pem" --image-type demo --image-dir "$work/boot/iconograph" --boot-dir "$work/boot" --good-after 600
expect_error "--health-command" -- agent --server wss://x:1 --ca-cert "$work/ca/root.cert.pem" --https-ca-cert "$work/ca/root.cert.pem" \
  --https-client-cert "$work/signer.cert.pem" --https-client-key "$work/signer.key.pem" --image-type demo --image-dir "$work/boot/iconograph" --boot-dir "$work/boot" --health-command check
expect_error "$work/nope.pem" -- certserver --port 0 --server-cert "$work/nope.pem" --server-key "$work/signer.key.pem" \
  --client-ca-cert "$work/ca/root.cert.pem" --ca-cert "$work/ca/intermediate.cert.pem" --ca-key "$work/ca/intermediate.key.pem" --subject "/CN=SYSTEMID"
expect_error "$work/disk.img" -- image --device "$work/disk.img" --base-url https://127.0.0.1:9 --ca-cert "$work/ca/root.cert.pem" --yes
expect_error "$work/no.iso" -- update-grub --boot-dir "$work" --image-dir "$work/no.iso"

# `icon module iconograph` with the binary the tests built (a debug build) is refused before
# anything is written, naming the fix; so is an --icon-binary that does not exist.
mkdir -p "$work/chroot"
module_flags=(--chroot-path "$work/chroot" --server wss://images.example.net:8443 --ca-cert "$work/ca/root.cert.pem"
  --https-ca-cert "$work/ca/root.cert.pem" --https-client-cert "$work/signer.cert.pem" --https-client-key "$work/signer.key.pem")
if "$icon" --version | grep -q "debug build"; then
  expect_error "is a debug build, too large and slow for an image; build it with scripts/build-release.sh" -- module iconograph "${module_flags[@]}"
else
  echo "cli-checks: skipped the debug-build refusal: $icon is a release build"
fi
expect_error "$work/no-icon" -- module iconograph "${module_flags[@]}" --icon-binary "$work/no-icon"
if [ -z "$(ls -A "$work/chroot")" ]; then ok; else fail "a refused icon module iconograph wrote into the chroot: $(ls -A "$work/chroot")"; fi
# The release binary (scripts/test.sh passes it) checks the image has the C libraries it needs:
# an empty root has none (IconBinaryInstallerTests installs it into a root that has them).
if [ -n "${ICON_RELEASE_BINARY:-}" ]; then
  icon=$ICON_RELEASE_BINARY expect_error "which the image lacks; add the package that has it (--package)" -- module iconograph "${module_flags[@]}"
  if [ -z "$(ls -A "$work/chroot")" ]; then ok; else fail "a refused dist/icon module iconograph wrote into the chroot"; fi
fi

echo "cli-checks: $passed passed, $failed failed"
[ $failed -eq 0 ]

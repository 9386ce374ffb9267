#!/usr/bin/env bash
# The Debian package as an operator installs it (scripts/test.sh runs this):
#   - lintian reports no errors;
#   - apt installs it into a fresh Debian bookworm root (mmdebstrap, from the host's mirror):
#     icon --version, icon pki init, man -w for the pages, the bash completion loads,
#     systemd-analyze verify passes for every unit, and no unit is enabled;
#   - apt installs it into a fresh trixie root too: the binary runs on another Debian
#     release than the build host's.
# Usage: scripts/package-checks.sh dist/iconograph_<version>_amd64.deb
set -euo pipefail
deb=$(realpath "${1:?usage: scripts/package-checks.sh PACKAGE.deb}")
[ -f "$deb" ] || { echo "package-checks: $deb does not exist: run scripts/package-deb.sh" >&2; exit 1; }
cd "$(dirname "$0")/.."

fail() { echo "package-checks: $*" >&2; exit 1; }

echo "package-checks: lintian $(basename "$deb")"
lintian_output=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges' || true)
[ -n "$lintian_output" ] && echo "$lintian_output"
if grep -q '^E:' <<<"$lintian_output"; then fail "lintian reports errors (above)"; fi

# The host's own Debian mirror (never a hard-coded one): the first URI apt is configured with.
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
  grep -oE '^(URIs:|deb) +[a-z+]+://[^ ]+' | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$mirror" ] || fail "no Debian mirror in /etc/apt/sources.list*"

work=$(mktemp -d /var/tmp/icon-package-checks.XXXXXX)
mounted=()
cleanup() {
  for path in "${mounted[@]}"; do umount "$path" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A fresh root of `release` with the package installed by apt (its Depends resolved from the
# mirror, no Recommends), /proc mounted.
install_root() {
  local release=$1 root=$work/$1 extra=$2
  echo "package-checks: apt installs the package into a fresh $release root ($mirror)"
  mmdebstrap --quiet --variant=apt --aptopt='APT::Install-Recommends "false"' ${extra:+--include="$extra"} \
    --customize-hook="copy-in $deb /tmp" \
    --customize-hook="chroot \"\$1\" apt-get install -y -q /tmp/$(basename "$deb")" \
    "$release" "$root" "deb $mirror $release main" >"$work/$release.log" 2>&1 ||
    { tail -20 "$work/$release.log" >&2; fail "mmdebstrap $release with the package failed (log above)"; }
  mount -t proc proc "$root/proc"
  mounted+=("$root/proc")
}

check_runs() {
  local release=$1 root=$work/$1
  local version
  version=$(chroot "$root" icon --version) || fail "$release: icon --version failed"
  case "$version" in
    [0-9]*" (commit "*) ;;
    *) fail "$release: icon --version printed '$version'" ;;
  esac
  case "$version" in *debug*) fail "$release: the package holds a debug build ($version)" ;; esac
  chroot "$root" icon pki init /tmp/ca --name "Package Check CA" >/dev/null ||
    fail "$release: icon pki init failed in the installed package"
  [ -s "$root/tmp/ca/root.cert.pem" ] || fail "$release: icon pki init wrote no root certificate"
  echo "package-checks: $release: /usr/bin/icon runs ($version); icon pki init made a CA"
}

install_root bookworm man-db,systemd
check_runs bookworm
root=$work/bookworm
for page in icon icon-publish icon-agent icon-server icon-module-iconograph; do
  chroot "$root" man -w "$page" >/dev/null || fail "bookworm: man -w $page finds no page"
done
chroot "$root" bash -c 'source /usr/share/bash-completion/completions/icon && complete -p icon' >/dev/null ||
  fail "bookworm: the bash completion does not load"
[ -s "$root/usr/share/zsh/vendor-completions/_icon" ] && [ -s "$root/usr/share/fish/vendor_completions.d/icon.fish" ] ||
  fail "bookworm: the zsh or fish completion is missing"
for unit in icon-agent icon-server icon-certserver; do
  output=$(chroot "$root" systemd-analyze verify "/lib/systemd/system/$unit.service" 2>&1) ||
    fail "bookworm: systemd-analyze verify $unit.service: $output"
  [ -z "$output" ] || fail "bookworm: systemd-analyze verify $unit.service warns: $output"
  [ ! -e "$root/etc/systemd/system/multi-user.target.wants/$unit.service" ] ||
    fail "bookworm: installing the package enabled $unit.service"
  [ -f "$root/etc/default/$unit" ] || fail "bookworm: /etc/default/$unit is missing"
done
echo "package-checks: bookworm: man -w finds the pages, completions load, systemd-analyze verify passes for 3 units, none enabled"

install_root trixie ""
check_runs trixie
echo "package-checks: passed"

#!/usr/bin/env bash
# Installs what Iconograph needs on a fresh Debian 12 machine (as root): the Debian tools the
# image builder, imager, tests and benchmarks run, and checks that a Swift toolchain is there.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build and runtime libraries
  libsqlite3-dev sqlite3 zlib1g-dev
  # image building, imaging and booting
  debootstrap mmdebstrap squashfs-tools xorriso mtools dosfstools e2fsprogs parted udev
  grub-common grub2-common grub-pc-bin grub-efi-amd64-bin cpio zstd
  qemu-system-x86 qemu-utils ovmf
  # the release binary, the Debian package and its checks (scripts/build-release.sh, package-deb.sh)
  binutils dpkg lintian man-db systemd rsync
  # tests and benchmarks: TLS peers, a real browser, timing
  openssl curl chromium chromium-driver libnss3-tools zbar-tools hyperfine time procps python3
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
  else
    echo "setup: no Swift toolchain found (looked in PATH and /opt/swift/usr/bin); install Swift 6.x first" >&2
    exit 1
  fi
fi
echo "setup: $(swift --version 2>/dev/null | head -1)"

#!/usr/bin/env bash
# Makes the Debian package dist/iconograph_<version>_amd64.deb from what scripts/build-release.sh
# put in dist/ (run that first), with dpkg-deb and no network:
#   /usr/bin/icon, /lib/systemd/system/icon-{agent,server,certserver}.service with their
#   /etc/default files, man pages, bash/zsh/fish completions, /usr/share/doc/iconograph.
# No service is enabled or started by installing it.
# Usage: scripts/package-deb.sh        (prints the package's path)
set -euo pipefail
cd "$(dirname "$0")/.."

[ -x dist/icon ] && [ -d dist/man ] && [ -d dist/completions ] ||
  { echo "package-deb: dist/icon, dist/man or dist/completions is missing: run scripts/build-release.sh first" >&2; exit 1; }
# The version of the binary itself: `0.2.0 (commit ...)`.
version=$(dist/icon --version | cut -d' ' -f1)
case "$version" in
  [0-9]*.[0-9]*) ;;
  *) echo "package-deb: dist/icon --version does not start with a version: $version" >&2; exit 1 ;;
esac
architecture=$(dpkg --print-architecture)
package=dist/iconograph_${version}_${architecture}.deb

stage=$(mktemp -d dist/.deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
doc=$root/usr/share/doc/iconograph
install -d -m 0755 "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/default" \
  "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" \
  "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d" "$doc" \
  "$root/usr/share/lintian/overrides"
install -m 0755 dist/icon "$root/usr/bin/icon"
for unit in packaging/deb/*.service; do install -m 0644 "$unit" "$root/lib/systemd/system/"; done
for file in packaging/deb/default/*; do install -m 0644 "$file" "$root/etc/default/"; done
for page in dist/man/*.1; do gzip -9n < "$page" > "$root/usr/share/man/man1/$(basename "$page").gz"; done
# A completion is sourced, not run: no #! line.
sed '1{/^#!/d}' dist/completions/icon.bash > "$root/usr/share/bash-completion/completions/icon"
chmod 0644 "$root/usr/share/bash-completion/completions/icon"
install -m 0644 packaging/deb/lintian/iconograph "$root/usr/share/lintian/overrides/iconograph"
install -m 0644 dist/completions/icon.zsh "$root/usr/share/zsh/vendor-completions/_icon"
install -m 0644 dist/completions/icon.fish "$root/usr/share/fish/vendor_completions.d/icon.fish"
install -m 0644 packaging/deb/copyright "$doc/copyright"
gzip -9n < README.md > "$doc/README.md.gz"
chmod 0644 "$doc/README.md.gz"
date=$(date -R -d "@$(git log -1 --format=%ct 2>/dev/null || date +%s)")
cat > "$stage/changelog" <<EOF
iconograph ($version) unstable; urgency=medium

  * Release $version, built from commit $(dist/icon --version | sed -n 's/.*(commit \([^),]*\).*/\1/p').

 -- Iconograph developers <iconograph@example.org>  $date
EOF
gzip -9n < "$stage/changelog" > "$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"

# The oldest glibc the binary asks for; the C++ runtime and zlib every Debian root has.
glibc=$(readelf -V dist/icon | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: iconograph
Version: $version
Architecture: $architecture
Maintainer: Iconograph developers <iconograph@example.org>
Installed-Size: $installed_size
Depends: libc6 (>= $glibc), libgcc-s1, libstdc++6, zlib1g
Recommends: mmdebstrap, squashfs-tools, xorriso, mtools, dosfstools, grub-pc-bin, grub-efi-amd64-bin, parted, e2fsprogs
Suggests: qemu-system-x86, ovmf
Section: admin
Priority: optional
Description: build, sign, serve and deploy bootable system images to fleets
 Iconograph builds Debian system images as bootable live ISOs and keeps
 fleets of machines running them: signed manifests, staged rollouts,
 self-upgrade through GRUB with boot counting and fallback, and an image
 server with a live dashboard.
 .
 This package holds the icon command (one binary), systemd units for the
 device agent, the image server and the certificate server (none enabled
 on install), man pages and shell completions. Building images needs the
 recommended tools.
EOF
for file in packaging/deb/default/*; do echo "/etc/default/$(basename "$file")"; done > "$root/DEBIAN/conffiles"
(cd "$root" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

tmp=$(mktemp "$package.XXXXXX")
dpkg-deb --root-owner-group -Zxz --build "$root" "$tmp" >/dev/null
chmod 0644 "$tmp"
sync -f "$tmp" 2>/dev/null || true
mv -f "$tmp" "$package"
echo "$package"

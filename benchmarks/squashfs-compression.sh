#!/usr/bin/env bash
# Packs one real image root with each squashfs compressor the builder offers, in one run on
# this machine, and reports per compressor: pack wall time, image size, and read-back time
# (every file of the loop-mounted squashfs read through the kernel, as a booted image does).
# The numbers chose `icon build-image`'s default --compression (README, "Building images").
#
# Usage: sudo benchmarks/squashfs-compression.sh [ROOT]
#   ROOT: a root directory or a root tarball; default: the largest cached root in
#   /var/tmp/iconograph-test-cache/roots (filled by scripts/test.sh), else /var/cache/iconograph/roots.
# The root and every squashfs live in a private tmpfs, so the disk does not take part: pack
# and read times are compression and decompression work. Needs root (tmpfs, loop mounts).
set -euo pipefail

[ "$(id -u)" -eq 0 ] || { echo "squashfs-compression: run as root (tmpfs and loop mounts)" >&2; exit 1; }
for tool in mksquashfs tar mount /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "squashfs-compression: $tool is missing (apt-get install squashfs-tools time)" >&2; exit 1; }
done

src=${1:-}
if [ -z "$src" ]; then
  for dir in /var/tmp/iconograph-test-cache/roots /var/cache/iconograph/roots; do
    src=$(ls -S "$dir"/*.tar 2>/dev/null | grep -v '\.partial\.tar$' | head -1 || true)
    [ -n "$src" ] && break
  done
fi
[ -n "$src" ] && [ -e "$src" ] || { echo "squashfs-compression: no root given and none cached; pass a root directory or tarball" >&2; exit 1; }

work=$(mktemp -d /var/tmp/squashfs-bench.XXXXXX)
cleanup() {
  # Lazily when busy: an interrupted mksquashfs may still hold files for a moment.
  if mountpoint -q "$work/mnt" 2>/dev/null; then umount "$work/mnt" || umount --lazy "$work/mnt"; fi
  if mountpoint -q "$work"; then umount "$work" || umount --lazy "$work"; fi
  rmdir "$work" 2>/dev/null || true
}
trap cleanup EXIT
mount -t tmpfs -o size=8G,mode=0755 squashfs-bench "$work"
mkdir "$work/root" "$work/mnt"
if [ -d "$src" ]; then
  cp -a "$src/." "$work/root/"
else
  tar --extract --file "$src" --directory "$work/root" --numeric-owner --xattrs --xattrs-include='*'
fi
root_bytes=$(du -sb "$work/root" | cut -f1)
files=$(find "$work/root" -type f | wc -l)

# name|mksquashfs options; mksquashfs's own defaults where no level is named
# (gzip 9, xz with its default filters, zstd 15). mksquashfs cannot store POSIX ACLs and says
# so for the few files that have them; that note is filtered out. lzo and lzma, which the builder also
# accepts, are left out to keep the run short (lzma is xz's older container).
configs=(
  "lz4|-comp lz4"
  "zstd-3|-comp zstd -Xcompression-level 3"
  "zstd-6|-comp zstd -Xcompression-level 6"
  "zstd-9|-comp zstd -Xcompression-level 9"
  "zstd-12|-comp zstd -Xcompression-level 12"
  "zstd-15 (mksquashfs default)|-comp zstd"
  "gzip|-comp gzip"
  "xz|-comp xz"
  "zstd-19|-comp zstd -Xcompression-level 19"
)

echo "squashfs-compression: root $src: $((root_bytes / 1048576)) MiB in $files files; $(nproc) CPUs;" \
  "mksquashfs $(mksquashfs -version 2>/dev/null | head -1 | awk '{print $3}')"
# CPU seconds (user + system, all threads) are given besides wall time: on a machine shared
# with other work they depend far less on the load than wall time does.
printf '%-24s %8s %8s %9s %7s %8s %8s\n' compressor "pack s" "pack cpu" "size MiB" "% root" "read s" "read cpu"
timing="$work/time"
# ONLY=regex measures just the compressors whose names match, e.g. ONLY='^zstd' for a quick run.
for config in "${configs[@]}"; do
  name=${config%%|*}
  if [ -n "${ONLY:-}" ] && ! [[ "$name" =~ $ONLY ]]; then continue; fi
  read -r -a options <<<"${config#*|}"
  image="$work/image.squashfs"
  /usr/bin/time -f '%e %U %S' -o "$timing" \
    mksquashfs "$work/root" "$image" -noappend -no-progress -quiet "${options[@]}" >/dev/null \
    2> >(grep -v '^Unrecognised xattr prefix system.posix_acl' >&2)
  read -r pack_wall pack_user pack_sys <"$timing"
  size=$(stat -c %s "$image")
  mount -t squashfs -o loop,ro "$image" "$work/mnt"
  # Through a pipe: GNU tar skips reading file data when it writes to /dev/null itself. The
  # kernel decompresses in the reading process, so its CPU time shows up as tar's system time.
  /usr/bin/time -f '%e %U %S' -o "$timing" sh -c 'tar -C "$1" -cf - . | cat >/dev/null' sh "$work/mnt"
  read -r read_wall read_user read_sys <"$timing"
  umount "$work/mnt"
  rm -f "$image"
  awk -v n="$name" -v pw="$pack_wall" -v s="$size" -v r="$root_bytes" \
    -v rw="$read_wall" -v ru="$read_user" -v rs="$read_sys" -v pu="$pack_user" -v ps="$pack_sys" \
    'BEGIN { printf "%-24s %8.1f %8.1f %9.1f %7.1f %8.1f %8.1f\n", n, pw, pu + ps, s / 1048576, 100 * s / r, rw, ru + rs }'
done

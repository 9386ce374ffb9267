#!/usr/bin/env bash
# `icon build-image` against Debian's live-build, both in one run on the same machine, mirror,
# package set and squashfs compression (issue 4, "Speed"):
#   1. cold build (empty caches for both): icon no slower than live-build;
#   2. warm rebuild (caches present, one module changed): icon in <= 25 % of live-build's time.
# For each tool and case it reports wall time, peak memory of the whole process tree (a memory
# cgroup holding the build) and ISO size, prints a table, writes it to a results file and
# exits 1 when a goal is missed.
#
# Usage: sudo benchmarks/live-build.sh [--icon PATH] [--compression zstd] [--compression-level N]
#          [--work-dir DIR] [--results FILE] [--archive URI] [--security-archive URI] [--keep]
#
# Cold: icon gets a fresh --cache-dir (no stage cache, no .deb cache); live-build starts in a
# fresh directory from `lb clean --purge` (no cache). Warm: icon runs again with the same
# --cache-dir and a different --module (a shell command writing /etc/livebench-module into the
# chroot); live-build, configured with its own caching (--cache true, --cache-packages true,
# --cache-stages "bootstrap chroot"), gets the equivalent change (another
# config/includes.chroot/etc/livebench-module) and runs `lb clean && lb build`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

icon=""
compression=zstd
level=""
work=/var/tmp/livebench-work
results=$repo/benchmarks/results/live-build.txt
archive=""
security_archive=""
keep=false
release=bookworm
arch=amd64

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --icon) icon=$2; shift 2 ;;
    --compression) compression=$2; shift 2 ;;
    --compression-level) level=$2; shift 2 ;;
    --work-dir) work=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --archive) archive=$2; shift 2 ;;
    --security-archive) security_archive=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "live-build.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
# Both tools get the same level: icon's zstd default is 9, live-build's (mksquashfs's) 15.
if [ "$compression" = zstd ] && [ -z "$level" ]; then level=9; fi

log() { echo "bench: $*"; }
die() { echo "live-build.sh: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, mmdebstrap, chroot and mounts); run it with sudo"
if [ -z "$icon" ]; then
  if [ -x .build/release/icon ]; then icon=$repo/.build/release/icon; else icon=$repo/.build/debug/icon; fi
fi
[ -x "$icon" ] || die "no icon binary at $icon (build it, or pass --icon PATH)"
icon=$(readlink -f "$icon")
if ! command -v lb >/dev/null; then
  log "installing live-build"
  DEBIAN_FRONTEND=noninteractive apt-get install -y live-build >/dev/null
fi

# --- Mirror: the first Debian URI in the host's apt sources, as icon itself picks it -------
# Prints "URI SUITE..." per enabled `deb` entry, in apt's order: sources.list, then
# sources.list.d/*.list (one-line) and *.sources (deb822), sorted by name.
apt_entries() {
  local files=() f
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*; do
    case "$f" in *.list|*.sources) files+=("$f") ;; esac
  done
  for f in "${files[@]}"; do
    case "$f" in
      *.sources)
        awk 'function flush() { if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no" && uris != "" && suites != "") { split(uris, u, " "); print u[1], suites } types = uris = suites = enabled = "" }
             /^[ \t]*$/ { flush(); next } /^#/ { next } /^[ \t]/ { next }
             { key = tolower($1); sub(/:$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val)
               if (key == "types") types = val; else if (key == "uris") uris = val
               else if (key == "suites") suites = val; else if (key == "enabled") enabled = val }
             END { flush() }' "$f" ;;
      *)
        sed -e 's/#.*//' -e 's/\[[^]]*\]//g' "$f" | awk '$1 == "deb" && NF >= 3 { print $2, $3 }' ;;
    esac
  done
}
if [ -z "$archive" ]; then
  archive=$(apt_entries | awk '{ for (i = 2; i <= NF; i++) if ($i !~ /-security$/ && $i !~ /\/updates$/) { print $1; exit } }' || true)
fi
if [ -z "$security_archive" ]; then
  security_archive=$(apt_entries | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /-security$/) { print $1; exit } }' || true)
fi
[ -n "$archive" ] || die "no Debian mirror in the host's apt sources; pass --archive URI"
[ -n "$security_archive" ] || security_archive=$archive
archive=${archive%/}
security_archive=${security_archive%/}

# --- Package set: icon's Debian base set (Sources/IconBuild/Flavor.swift) ----------------------
# icon installs linux-image-<arch> plus these on a minbase root; live-build installs the same
# kernel through its --linux-packages/--linux-flavours default and these from a package list.
packages=(live-boot systemd-sysv udev ca-certificates iproute2 procps less)

# --- Measuring: a memory cgroup around the whole process tree ---------------------------------
# cgroup v2 (memory.peak) when the unified hierarchy has the memory controller, else the v1
# memory controller (memory.max_usage_in_bytes). Both count page cache and tmpfs as well as
# process memory, so a sampler also records the peak of anonymous + shmem (tmpfs) memory,
# which is what the build cannot give back under pressure.
cg_mode=""
cg_parent=""
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  cg_mode=v2
  # A v2 cgroup holding processes cannot give its children controllers, so the build cgroups
  # go directly under the root, with the memory controller enabled for its children.
  cg_parent=/sys/fs/cgroup
  grep -qw memory "$cg_parent/cgroup.subtree_control" || echo +memory > "$cg_parent/cgroup.subtree_control"
elif [ -d /sys/fs/cgroup/memory ]; then
  cg_mode=v1
  cg_parent=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
fi
[ -n "$cg_mode" ] || die "no memory cgroup controller (neither v2 memory.peak nor v1 memory) to measure peak memory"
cg_parent=${cg_parent%/}

cg_paths=()
# Removes the work directory, never through something still mounted in it.
remove_work() {
  [ -n "$work" ] && [ -d "$work" ] || return 0
  # lb clean unmounts what a failed live-build left mounted in its chroot.
  [ -d "$work/lb/config" ] && (cd "$work/lb" && lb clean --purge >/dev/null 2>&1 || true)
  if awk -v w="$work/" 'index($2 "/", w) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    echo "live-build.sh: something is still mounted under $work; not removing it" >&2
    return 1
  fi
  rm -rf --one-file-system "$work"
}
cleanup() {
  local cg
  for cg in "${cg_paths[@]}"; do [ -d "$cg" ] && rmdir "$cg" 2>/dev/null || true; done
  [ "$keep" = true ] || remove_work || true
}
trap cleanup EXIT

unreclaimable_bytes() { # anon + shmem charged to cgroup $1
  if [ "$cg_mode" = v2 ]; then
    awk '$1 == "anon" || $1 == "shmem" { s += $2 } END { print s + 0 }' "$1/memory.stat"
  else
    awk '$1 == "total_rss" || $1 == "total_shmem" { s += $2 } END { print s + 0 }' "$1/memory.stat"
  fi
}

# measure NAME LOGFILE COMMAND...: runs COMMAND in a fresh memory cgroup; sets m_wall (s),
# m_peak and m_unreclaimable (bytes). Returns COMMAND's status.
measure() {
  local name=$1 logfile=$2; shift 2
  local cg=$cg_parent/livebench-$name-$$
  mkdir "$cg"
  cg_paths+=("$cg")
  if [ "$cg_mode" = v2 ] && [ ! -f "$cg/memory.peak" ]; then
    echo "live-build.sh: $cg has no memory.peak (kernel older than 5.19?)" >&2; return 2
  fi
  [ "$cg_mode" = v1 ] && echo 1 > "$cg/memory.use_hierarchy" 2>/dev/null || true
  local peakfile=$work/$name.unreclaimable
  echo 0 > "$peakfile"
  rm -f "$work/$name.stop"
  ( max=0; while [ ! -e "$work/$name.stop" ]; do
      v=$(unreclaimable_bytes "$cg" 2>/dev/null || echo 0)
      [ "$v" -gt "$max" ] && { max=$v; echo "$max" > "$peakfile"; }
      sleep 0.5
    done ) &
  local sampler=$!
  local t0 t1 status=0
  t0=$(date +%s.%N)
  bash -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' bash "$cg" "$@" > "$logfile" 2>&1 || status=$?
  t1=$(date +%s.%N)
  m_wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
  if [ "$cg_mode" = v2 ]; then m_peak=$(cat "$cg/memory.peak"); else m_peak=$(cat "$cg/memory.max_usage_in_bytes"); fi
  # One last sample before the sampler sees the cgroup go.
  local last; last=$(unreclaimable_bytes "$cg" 2>/dev/null || echo 0)
  touch "$work/$name.stop"
  wait "$sampler" 2>/dev/null || true
  rmdir "$cg" 2>/dev/null || true
  m_unreclaimable=$(cat "$peakfile")
  [ "$last" -gt "$m_unreclaimable" ] && m_unreclaimable=$last
  return $status
}

fail_with_log() { echo "live-build.sh: $1 failed; last lines of $2:" >&2; tail -40 "$2" >&2; exit 2; }

# check_iso NAME ISO EXPECTED: the ISO's squashfs holds the module's file with EXPECTED;
# sets c_packages to the number of installed packages in the image.
check_iso() {
  local name=$1 iso=$2 expected=$3 sq=$work/$1.squashfs got
  rm -f "$sq"
  xorriso -osirrox on -indev "$iso" -extract /live/filesystem.squashfs "$sq" >/dev/null 2>&1 \
    || die "$name: no /live/filesystem.squashfs in $iso"
  got=$(unsquashfs -cat "$sq" etc/livebench-module 2>/dev/null || true)
  [ "$got" = "$expected" ] || die "$name: /etc/livebench-module in $iso is '$got', expected '$expected'"
  c_packages=$(unsquashfs -cat "$sq" var/lib/dpkg/status | grep -c '^Package:')
  rm -f "$sq"
}

mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# --- Setup ----------------------------------------------------------------------------------
remove_work || die "cannot start afresh in $work"
mkdir -p "$work/lb" "$work/icon-images" "$(dirname "$results")"
icon_cache=$work/icon-cache
lbdir=$work/lb
log "icon $icon ($("$icon" --version 2>/dev/null || echo '?'))"
log "live-build $(lb --version 2>/dev/null | head -1)"
log "mirror $archive, security $security_archive, release $release/$arch, compression $compression"
log "packages linux-image-$arch ${packages[*]} (minbase, no recommends)"
log "work in $work; memory cgroup $cg_mode under $cg_parent"

# live-build's documented setup: the options live in auto/config, which `lb build` runs
# whenever `lb clean` removed the config stage, so `lb clean [--purge] && lb build` rebuilds.
lb_options=(
  --distribution "$release" --architectures "$arch" --archive-areas main
  --mirror-bootstrap "$archive" --mirror-chroot "$archive" --mirror-binary "$archive"
  --mirror-chroot-security "$security_archive" --mirror-binary-security "$security_archive"
  --security true --updates true
  --debootstrap-options "--variant=minbase" --apt-recommends false
  --linux-flavours "$arch" --firmware-chroot false --firmware-binary false
  --debian-installer none --binary-images iso-hybrid --bootloaders "grub-pc grub-efi"
  --memtest none --source false --apt-indices false --apt-source-archives false
  --zsync false --checksums none
  --chroot-squashfs-compression-type "$compression"
  ${level:+--chroot-squashfs-compression-level "$level"}
  --cache true --cache-packages true --cache-stages "bootstrap chroot"
)
(
  cd "$lbdir"
  mkdir -p auto config/package-lists config/includes.chroot/etc
  { echo '#!/bin/sh'; echo 'set -e'; printf 'lb config noauto'; printf ' %q' "${lb_options[@]}"; echo ' "$@"'; } > auto/config
  chmod +x auto/config
  # icon's set instead of live-build's default live.list.chroot (which adds live-config);
  # lb config keeps an existing live.list.chroot.
  printf '%s\n' "${packages[@]}" > config/package-lists/live.list.chroot
  echo cold > config/includes.chroot/etc/livebench-module
  lb config
) > "$work/lb-config.log" 2>&1 || fail_with_log "lb config" "$work/lb-config.log"

icon_build() { # icon_build LOGNAME MODULE_TEXT
  local text=$2
  # The module API: the command gets --chroot-path=<chroot> appended; $1 of the sh -c script.
  measure "$1" "$work/$1.log" "$icon" build-image --release "$release" --arch "$arch" \
    --archive "$archive" --security-archive "$security_archive" \
    --image-path "$work/icon-images" --image-type bench --cache-dir "$icon_cache" \
    --compression "$compression" ${level:+--compression-level "$level"} \
    --module "sh -c 'echo $text > \"\${1#--chroot-path=}/etc/livebench-module\"' module" \
    || fail_with_log "icon build-image ($1)" "$work/$1.log"
  icon_iso=$(ls -t "$work"/icon-images/bench/*.iso | head -1)
}

declare -A wall peak unrecl isosize pkgs

# --- Cold -----------------------------------------------------------------------------------
log "cold: live-build (lb clean --purge; lb build)"
measure lb-cold "$work/lb-cold.log" bash -c 'cd "$1" && lb clean --purge && lb build' bash "$lbdir" \
  || fail_with_log "live-build cold build" "$work/lb-cold.log"
lb_iso=$lbdir/live-image-$arch.hybrid.iso
[ -f "$lb_iso" ] || fail_with_log "live-build cold build (no $lb_iso)" "$work/lb-cold.log"
check_iso lb-cold "$lb_iso" cold
wall[lb-cold]=$m_wall; peak[lb-cold]=$m_peak; unrecl[lb-cold]=$m_unreclaimable
isosize[lb-cold]=$(stat -c %s "$lb_iso"); pkgs[lb-cold]=$c_packages
log "  ${wall[lb-cold]} s"

log "cold: icon build-image (fresh --cache-dir)"
rm -rf "$icon_cache"
icon_build icon-cold cold
grep -q "stored in cache" "$work/icon-cold.log" || fail_with_log "icon cold build did not bootstrap afresh" "$work/icon-cold.log"
check_iso icon-cold "$icon_iso" cold
wall[icon-cold]=$m_wall; peak[icon-cold]=$m_peak; unrecl[icon-cold]=$m_unreclaimable
isosize[icon-cold]=$(stat -c %s "$icon_iso"); pkgs[icon-cold]=$c_packages
log "  ${wall[icon-cold]} s"

# --- Warm -----------------------------------------------------------------------------------
log "warm: live-build (changed includes.chroot file; lb clean; lb build with its caches)"
echo warm > "$lbdir/config/includes.chroot/etc/livebench-module"
rm -f "$lb_iso"
measure lb-warm "$work/lb-warm.log" bash -c 'cd "$1" && lb clean && lb build' bash "$lbdir" \
  || fail_with_log "live-build warm build" "$work/lb-warm.log"
[ -f "$lb_iso" ] || fail_with_log "live-build warm build (no $lb_iso)" "$work/lb-warm.log"
check_iso lb-warm "$lb_iso" warm
wall[lb-warm]=$m_wall; peak[lb-warm]=$m_peak; unrecl[lb-warm]=$m_unreclaimable
isosize[lb-warm]=$(stat -c %s "$lb_iso"); pkgs[lb-warm]=$c_packages
log "  ${wall[lb-warm]} s"

log "warm: icon build-image (same --cache-dir, another --module)"
icon_build icon-warm warm
grep -q "root from cache" "$work/icon-warm.log" || fail_with_log "icon warm build did not use the stage cache" "$work/icon-warm.log"
check_iso icon-warm "$icon_iso" warm
wall[icon-warm]=$m_wall; peak[icon-warm]=$m_peak; unrecl[icon-warm]=$m_unreclaimable
isosize[icon-warm]=$(stat -c %s "$icon_iso"); pkgs[icon-warm]=$c_packages
log "  ${wall[icon-warm]} s"

# --- Report ---------------------------------------------------------------------------------
cold_ratio=$(awk -v a="${wall[icon-cold]}" -v b="${wall[lb-cold]}" 'BEGIN { printf "%.2f", a / b }')
warm_ratio=$(awk -v a="${wall[icon-warm]}" -v b="${wall[lb-warm]}" 'BEGIN { printf "%.2f", a / b }')
cold_ok=$(awk -v r="$cold_ratio" 'BEGIN { print (r <= 1.0) ? "PASS" : "FAIL" }')
warm_ok=$(awk -v r="$warm_ratio" 'BEGIN { print (r <= 0.25) ? "PASS" : "FAIL" }')
peak_name="memory.peak"; [ "$cg_mode" = v1 ] && peak_name="memory.max_usage_in_bytes"
{
  echo "icon build-image vs live-build: $release/$arch, mirror $archive (security $security_archive), squashfs $compression${level:+ level $level}"
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -r), live-build $(dpkg-query -W -f '${Version}' live-build)"
  echo
  printf '%-5s %-11s %9s %13s %15s %8s %9s\n' case tool "wall (s)" "peak (MiB)" "anon+shm (MiB)" "ISO (MiB)" packages
  for c in cold warm; do
    for t in icon lb; do
      k=$t-$c; name=$t; [ "$t" = lb ] && name=live-build
      printf '%-5s %-11s %9s %13s %15s %8s %9s\n' "$c" "$name" "${wall[$k]}" "$(mib "${peak[$k]}")" \
        "$(mib "${unrecl[$k]}")" "$(mib "${isosize[$k]}")" "${pkgs[$k]}"
    done
  done
  echo
  echo "cold: icon/live-build wall time = $cold_ratio (goal <= 1.00) $cold_ok"
  echo "warm: icon/live-build wall time = $warm_ratio (goal <= 0.25) $warm_ok"
  echo
  echo "peak = $peak_name of a $cg_mode memory cgroup holding the whole build (includes page cache and tmpfs);"
  echo "anon+shm = sampled peak of anonymous + shmem (tmpfs) memory in that cgroup, every 0.5 s."
} | tee "$results"
log "results written to $results"
[ "$cold_ok" = PASS ] && [ "$warm_ok" = PASS ]

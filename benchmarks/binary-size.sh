#!/usr/bin/env bash
# What the release `icon` (dist/icon, scripts/build-release.sh) is made of and what it costs an
# image: the binary's bytes by library (from the linker's map), and the whole binary and the
# ICU data in it packed by mksquashfs with the image's default (zstd 9) and with xz.
# Usage: benchmarks/binary-size.sh        (after scripts/build-release.sh; relinks once, ~2 min)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
[ -x dist/icon ] || { echo "binary-size: dist/icon is missing: run scripts/build-release.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

tree=$PWD/.build/release-tree    # where scripts/build-release.sh builds
echo "binary-size: relinking $tree/.build/release/icon with a link map"
(cd "$tree" && swift build -c release --static-swift-stdlib --product icon -Xlinker "-L$tree/.build/static-libs" \
  -Xlinker "-Map=$work/icon.map") 2>&1 | grep -E "error|Compiling|Build of" | tail -2

python3 - "$work/icon.map" <<'PY'
import collections, os, re, sys
sizes = collections.Counter()
section = None
# GNU ld map: an input section is " .name 0xADDRESS 0xSIZE file", sometimes with the name
# alone on the line before.
pattern = re.compile(r"^\s+(\.\S+)?\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$")
in_memory_map = False
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line.startswith(("Linker script and memory map", "Memory map")):  # GNU ld, gold
        in_memory_map = True
        continue
    if not in_memory_map:
        continue
    name = re.match(r"^ (\.\S+)\s*$", line)
    if name:
        section = name.group(1)
        continue
    match = pattern.match(line)
    if not match:
        continue
    section = match.group(1) or section
    if not section or section.startswith((".debug", ".comment", ".note")):
        continue
    size, origin = int(match.group(2), 16), match.group(3).strip()
    archive = re.match(r"(.*?\.a)\((.*)\)$", origin)
    if archive:
        library = os.path.basename(archive.group(1))
    elif "/.build/" in origin and ".build/" in origin:
        module = re.search(r"/([^/]+)\.build/.*\.o$", origin)
        library = (module.group(1) if module else os.path.basename(origin)) + " (package target)"
    else:
        library = os.path.basename(origin)
    sizes[library] += size
total = sum(sizes.values())
print(f"\n{'library':<44} {'MB':>7} {'share':>6}")
for library, size in sizes.most_common(18):
    print(f"{library:<44} {size / 1e6:7.1f} {100 * size / total:5.1f}%")
rest = total - sum(size for _, size in sizes.most_common(18))
print(f"{'everything else':<44} {rest / 1e6:7.1f} {100 * rest / total:5.1f}%")
print(f"{'total (code and data)':<44} {total / 1e6:7.1f}")
PY

# The ICU data blob, as its own file, to see what it costs compressed.
python3 - dist/icon "$work/icu.dat" "$tree/.build/release/icon" <<'PY'
import re, subprocess, sys
binary, out, unstripped = sys.argv[1], sys.argv[2], sys.argv[3]
symbols = subprocess.run(["readelf", "-sW", unstripped], capture_output=True, text=True).stdout
match = re.search(r"^\s*\d+:\s+([0-9a-f]+)\s+(0x[0-9a-f]+|\d+)\s+OBJECT\s+\S+\s+\S+\s+\S+\s+(icudt\d+_dat)$", symbols, re.M)
if not match:
    sys.exit("binary-size: no icudt*_dat symbol in " + unstripped)
address, size, name = int(match.group(1), 16), int(match.group(2), 0), match.group(3)
sections = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True).stdout
for line in sections.splitlines():
    parts = re.match(r"^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)", line)
    if not parts:
        continue
    start, offset, length = int(parts.group(2), 16), int(parts.group(3), 16), int(parts.group(4), 16)
    if start <= address < start + length:
        with open(binary, "rb") as f:
            f.seek(offset + address - start)
            open(out, "wb").write(f.read(size))
        print(f"\n{name}: {size / 1e6:.1f} MB of ICU data (in {parts.group(1)})")
        break
PY

packed() {  # bytes of a squashfs holding only $1, packed with compressor $2 (and level $3)
  rm -rf "$work/tree" "$work/packed.sqfs"
  mkdir -p "$work/tree"
  cp "$1" "$work/tree/"
  mksquashfs "$work/tree" "$work/packed.sqfs" -noappend -no-progress -quiet -comp "$2" ${3:+-Xcompression-level $3} >/dev/null
  stat -c %s "$work/packed.sqfs"
}
echo
printf '%-36s %10s %10s %10s\n' "what" "bytes" "zstd 9" "xz"
for file in dist/icon "$work/icu.dat"; do
  [ -f "$file" ] || continue
  label=$([ "$file" = dist/icon ] && echo "dist/icon (stripped)" || echo "ICU data inside it")
  printf '%-36s %9.1fM %9.1fM %9.1fM\n' "$label" "$(echo "$(stat -c %s "$file") / 1000000" | bc -l)" \
    "$(echo "$(packed "$file" zstd 9) / 1000000" | bc -l)" "$(echo "$(packed "$file" xz) / 1000000" | bc -l)"
done

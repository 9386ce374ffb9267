#!/usr/bin/env bash
# Builds the release `icon` that images and the Debian package carry, with its man pages and
# shell completions, into dist/:
#   dist/icon                     release build, --static-swift-stdlib and SQLite linked in,
#                                 stripped: needs only glibc, libstdc++, libgcc_s and zlib,
#                                 which every Debian and Ubuntu root has
#   dist/man/*.1                  one page per command (swift-argument-parser's generate-manual)
#   dist/completions/icon.{bash,zsh,fish}
# The git commit is stamped into the binary (icon --version prints it).
# Usage: scripts/build-release.sh        (the demo, the image tests and scripts/e2e.sh run it)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-modified"; fi

# The release build compiles a copy of the package in .build/release-tree, with the commit stamped
# into the copy's BuildStamp.swift: the tree itself is never edited (a debug build or an editor
# never sees the stamp). rsync copies only what changed, so a second run is incremental.
command -v rsync > /dev/null || { echo "build-release: rsync is missing: apt-get install rsync" >&2; exit 1; }
tree=$PWD/.build/release-tree
mkdir -p "$tree/Sources/IconCore"
stamp=Sources/IconCore/BuildStamp.swift
sources=(Package.swift Sources Tests)
[ -f Package.resolved ] && sources+=(Package.resolved)
rsync -a --delete --exclude "/Sources/IconCore/BuildStamp.swift" "${sources[@]}" "$tree/"
stamped=$(mktemp)
sed "s/static let commit: String? = nil/static let commit: String? = \"$commit\"/" "$stamp" > "$stamped"
# Rewritten only when the commit changed: an unchanged stamp keeps the build incremental.
if cmp -s "$stamped" "$tree/$stamp"; then rm -f "$stamped"; else mv -f "$stamped" "$tree/$stamp"; fi

# SQLite linked in as well (GRDB asks for -lsqlite3): a directory holding only the static
# library comes first on the linker's path (libsqlite3-dev has it).
sqlite=$(ls /usr/lib/*-linux-gnu/libsqlite3.a /usr/lib/libsqlite3.a 2>/dev/null | head -1 || true)
[ -n "$sqlite" ] || { echo "build-release: libsqlite3.a is missing: apt-get install libsqlite3-dev" >&2; exit 1; }
mkdir -p "$tree/.build/static-libs"
ln -sf "$sqlite" "$tree/.build/static-libs/libsqlite3.a"

echo "build-release: swift build -c release --static-swift-stdlib --product icon (commit $commit, in .build/release-tree)"
mkdir -p .build
set +e
(cd "$tree" && swift build -c release --static-swift-stdlib --product icon -Xlinker "-L$tree/.build/static-libs") 2>&1 \
  | tee .build/release-output.txt | grep -Ev '^\[[0-9]+/[0-9]+\] '
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "build-release: the release build failed" >&2; exit 1; }

mkdir -p dist
tmp=$(mktemp dist/.icon.XXXXXX)
strip --strip-all -o "$tmp" "$tree/.build/release/icon"
chmod 0755 "$tmp"
mv -f "$tmp" dist/icon

# Only libraries every Debian and Ubuntu root has: no Swift runtime, nothing from the toolchain.
needed=$(readelf -d dist/icon | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for library in $needed; do
  case "$library" in
    libc.so.6 | libm.so.6 | libstdc++.so.6 | libgcc_s.so.1 | libz.so.1 | libdl.so.2 | libpthread.so.0 | librt.so.1 | libutil.so.1 | ld-linux-*) ;;
    *) echo "build-release: dist/icon needs $library, which a Debian root may lack" >&2; exit 1 ;;
  esac
done
version=$(dist/icon --version)
case "$version" in
  *debug*) echo "build-release: dist/icon says it is a debug build: $version" >&2; exit 1 ;;
esac

# Man pages and completions from the command tree itself (never written by hand).
echo "build-release: man pages and completions"
(cd "$tree" && swift build -c release --product generate-manual 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] ') || true
generator=$(cd "$tree" && swift build -c release --product generate-manual --show-bin-path)/generate-manual
rm -rf dist/man dist/completions
mkdir -p dist/man dist/completions
"$generator" dist/icon --multi-page --output-directory dist/man --date "$(git log -1 --format=%cs 2>/dev/null || date +%F)" \
  --section 1 --authors "The Iconograph developers"
# man names a command's page icon-publish (`man icon-publish`); generate-manual writes
# icon.publish.1. Rename the files and every reference to them.
python3 - dist/man <<'PY'
import os, re, sys
directory = sys.argv[1]
for name in sorted(os.listdir(directory)):
    path = os.path.join(directory, name)
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"^(\.Xr icon)((?:\.[a-z0-9-]+)+)", lambda m: m.group(1) + m.group(2).replace(".", "-"), text, flags=re.M)
    text = re.sub(r"^(\.Dt ICON)((?:\.[A-Z0-9-]+)+)", lambda m: m.group(1) + m.group(2).replace(".", "-"), text, flags=re.M)
    # whatis and apropos read the NAME line, which takes one word: icon-publish. The synopsis
    # keeps the command as typed (a bare .Nm repeats the NAME's).
    command = re.search(r'^\.Nm "([^"]+)"$', text, flags=re.M)
    if command:
        text = text.replace(command.group(0), ".Nm " + command.group(1).replace(" ", "-"), 1)
        text = re.sub(r"^\.Nm$", '.Nm "%s"' % command.group(1), text, flags=re.M)
    # An empty line is a paragraph break that groff warns about: say it with .Pp.
    text = re.sub(r"\n\n+", "\n.Pp\n", text)
    target = os.path.join(directory, name[:-2].replace(".", "-") + ".1")
    with open(target + ".tmp", "w", encoding="utf-8") as out:
        out.write(text)
    os.remove(path)
    os.rename(target + ".tmp", target)
PY
for shell in bash zsh fish; do
  dist/icon --generate-completion-script "$shell" > "dist/completions/icon.$shell"
done

echo "build-release: dist/icon $version, $(( $(stat -c %s dist/icon) / 1000000 )) MB, needs: $needed"
echo "build-release: $(ls dist/man | wc -l) man pages in dist/man, completions in dist/completions"

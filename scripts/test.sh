#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs every test.
# Usage: sudo scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

# Deadlines of tests that wait on real work scale with this factor (TestTiming, scripts/e2e.sh).
# 2 by default here: a wait for something that does happen ends when it happens, so a longer
# deadline costs a quiet machine nothing and keeps a busy one (CI beside other work) passing.
export ICON_TEST_SLOWDOWN=${ICON_TEST_SLOWDOWN:-2}
start=$(date +%s)
echo "test: architecture (scripts/check-architecture.py: layout, dependencies, imports, no process bypasses)"
python3 scripts/check-architecture.py || { echo "test: the architecture check failed" >&2; exit 1; }
mkdir -p .build
echo "test: building (debug, with tests)"
set +e
swift build --build-tests 2>&1 | tee .build/build-output.txt | grep -Ev '^\[[0-9]+/[0-9]+\] '
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "test: the build failed" >&2; exit 1; }
# Zero warnings in this package's own code (dependencies' warnings are theirs).
if grep -E "^$PWD/(Sources|Tests)/.*: warning: " .build/build-output.txt; then
  echo "test: the build has warnings in this package's code (above); fix them" >&2
  exit 1
fi

echo "test: building the release binary images carry (scripts/build-release.sh: dist/icon, man pages, completions)"
bash scripts/build-release.sh
export ICON_RELEASE_BINARY=$PWD/dist/icon

if [ -z "${ICON_SKIP_IMAGE_TESTS:-}" ]; then
  # A live ISO made with the command-line builder (the bootstrapped root comes from the same
  # cache as the image build test), for the test that images a disk and boots it in QEMU.
  echo "test: building a live ISO with icon build-image for the disk boot test"
  live=/var/tmp/icon-test-live
  rm -rf "$live"
  .build/debug/icon build-image --image-path "$live" --image-type live --release bookworm \
    --timestamp 1700000000 --kernel-arg console=ttyS0,115200 --work-size 4G \
    --cache-dir /var/tmp/iconograph-test-cache \
    --module "$PWD/.build/debug/icon module persistent" \
    --module "$PWD/.build/debug/icon module systemid"
  export ICON_TEST_LIVE_ISO=$live/live/1700000000.iso
fi

# The suites that build images, boot QEMU or use loop devices run one at a time after the rest,
# so a busy machine slows them down instead of making them miss their deadlines (which scale
# with ICON_TEST_SLOWDOWN, a factor of at least 1, for machines slower still).
heavy=(ImageBuildIntegrationTests ReproducibleBuildTests SourceIsoIntegrationTests DiskImagerQEMUTests
  GrubBootSafetyQEMUTests DiskImagerTests SystemIDImagerTests)
heavy_pattern=$(IFS='|'; echo "${heavy[*]}")
: > .build/test-output.txt
run_tests() {
  local what=$1; shift
  echo "test: $what"
  set +e
  swift test --skip-build "$@" 2>&1 | tee -a .build/test-output.txt | grep -Ev ' started\.$'
  local status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    echo "test: $what failed with status $status (full output in .build/test-output.txt)" >&2
    exit 1
  fi
}
run_tests "unit and loopback integration tests" --skip "$heavy_pattern"
if [ -z "${ICON_SKIP_IMAGE_TESTS:-}" ]; then
  for suite in "${heavy[@]}"; do
    run_tests "$suite (image builds, QEMU, loop devices: one suite at a time)" --filter "$suite"
  done
fi

echo "test: command-line checks"
bash scripts/cli-checks.sh .build/debug/icon

echo "test: the operator's first hour, the README's commands as written (scripts/first-hour.sh)"
bash scripts/first-hour.sh .build/debug/icon

echo "test: the Debian package, installed by apt into fresh bookworm and trixie roots (scripts/package-deb.sh, package-checks.sh)"
deb=$(bash scripts/package-deb.sh)
bash scripts/package-checks.sh "$deb"

if [ -z "${ICON_SKIP_IMAGE_TESTS:-}" ]; then
  echo "test: end to end on a QEMU machine (scripts/e2e.sh)"
  ICON="$PWD/.build/debug/icon" bash scripts/e2e.sh
fi

echo "test: all passed in $(( $(date +%s) - start )) s"

#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds once, runs every test.
# Usage: sudo scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
export PATH="/opt/swift/usr/bin:$PATH"

start=$(date +%s)
echo "test: building (debug, with tests)"
swift build --build-tests 2>&1 | grep -Ev '^\[[0-9]+/[0-9]+\] (Compiling|Emitting|Linking|Write|Merging|Applying)' || true
# A build failure must fail the run; the filter above hides only progress lines.
swift build --build-tests >/dev/null

echo "test: unit and integration tests"
set +e
swift test --skip-build 2>&1 | tee .build/test-output.txt | grep -Ev ' started\.$'
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "test: swift test failed with status $status (full output in .build/test-output.txt)" >&2
  exit 1
fi

echo "test: command-line checks"
bash scripts/cli-checks.sh .build/debug/icon

echo "test: all passed in $(( $(date +%s) - start )) s"

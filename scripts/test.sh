#!/usr/bin/env bash
# The test command (README): builds everything, including libGoMalloc.so, then runs each test target with a
# time limit (a hung scheduler or collector test fails the run instead of eating CI's 90 minutes).
set -uo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests || exit 1
status=0
for target in GoAllocTests GoMallocTests GoLayoutTests GoSchedTests GoGCTests; do
  echo "=== $target"
  timeout 1200 swift test --skip-build --filter "$target" || { echo "=== $target FAILED"; status=1; }
done
exit $status

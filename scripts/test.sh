#!/usr/bin/env bash
# The test command (README): builds everything, including libGoMalloc.so, then runs each test target with a
# time limit (a hung scheduler or collector test fails the run instead of eating CI's 90 minutes). Then the
# scheduler and allocator tests again under Thread Sanitizer, in their own build directory (.build-tsan).
set -uo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests || exit 1
status=0
for target in GoAllocTests GoMallocTests GoLayoutTests GoSchedTests GoGCTests; do
  echo "=== $target"
  timeout 1200 swift test --skip-build --filter "$target" || { echo "=== $target FAILED"; status=1; }
done
echo "=== GoSchedTests (Thread Sanitizer)"
# halt_on_error: the first race report fails the run (a report alone would not change the exit status).
tsan=(--sanitize=thread --build-path .build-tsan)
if swift build --build-tests "${tsan[@]}"; then
  TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/scripts/tsan-suppressions.txt ${TSAN_OPTIONS:-}" timeout 1200 \
    swift test --skip-build "${tsan[@]}" --filter GoSchedTests \
    || { echo "=== GoSchedTests (Thread Sanitizer) FAILED"; status=1; }
  # The allocator's multi-threaded tests too, but not the RSS checks: TSan's shadow memory inflates RSS.
  # No suppressions here: every report is collected (exitcode=0: the tests' own status decides the exit), then
  # scripts/tsan-check.awk fails the run on any report but a Swift access race between two instrumented inout
  # accesses (or one and an atomic) whose top frame is GoAlloc's own code or its atomic shims, the artifact
  # tsan-suppressions.txt explains: a data race, or an access race with a plain read or write on either side,
  # fails it. Also a TSan fatal error, or a run that did not finish (XCTest's "passed" line is required).
  # Limit: TSan reports each address and stack once, so a race at an address already reported as an
  # artifact is not printed again.
  echo "=== GoAllocTests (Thread Sanitizer)"
  log=$(mktemp)
  TSAN_OPTIONS="exitcode=0 ${TSAN_OPTIONS:-}" timeout 1200 \
    swift test --skip-build "${tsan[@]}" --filter GoAllocTests --skip ReturnsRSS >"$log" 2>&1 \
    || { tail -n 40 "$log"; echo "=== GoAllocTests (Thread Sanitizer) FAILED"; status=1; }
  grep -E "Executed [0-9]+ tests" "$log" | tail -n 1
  if ! grep -q "Test Suite 'Selected tests' passed" "$log" || grep -qE "FATAL: ThreadSanitizer|ThreadSanitizer: CHECK failed" "$log"; then
    grep -E "ThreadSanitizer|error:" "$log" | grep -v "Swift access race" | head -n 20
    echo "=== GoAllocTests (Thread Sanitizer) FAILED: the run did not finish cleanly"; status=1
  fi
  if ! awk -f scripts/tsan-check.awk "$log"; then
    echo "=== GoAllocTests (Thread Sanitizer) FAILED: the reports above"; status=1
  fi
  rm -f "$log"
else
  echo "=== Thread Sanitizer build FAILED"; status=1
fi
exit $status

#!/usr/bin/env bash
# The test command (README): builds everything, including libGoMalloc.so, then runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build "$@"

#!/usr/bin/env bash
# The whole test suite: Swift unit and integration tests, then the interop tests that drive the
# osprey binary and real peers (Prometheus 2.42 from Debian).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
swift build
swift test
python3 -m pytest -q Tests/InteropTests

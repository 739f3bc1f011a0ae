#!/usr/bin/env bash
# The test command: installs what is missing, builds, starts a throwaway PostgreSQL cluster under
# the working tree, applies the schema, and runs `swift test` against it. Extra arguments go to
# `swift test` (e.g. scripts/test.sh --filter FITSTests).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/setup.sh

wsa_install_packages
wsa_build --build-tests

WSA_TEST_DATABASE=$(scripts/pg.sh start)
export WSA_TEST_DATABASE
trap 'scripts/pg.sh stop >/dev/null 2>&1 || true' EXIT
"$WSA_BIN_DIR/wsadb" migrate --database "$WSA_TEST_DATABASE" --sql-dir sql

echo "test: running swift test against $WSA_TEST_DATABASE" >&2
if [ $# -eq 0 ]; then
  # The fault tests freeze, crash and time processes: they run after the rest, on their own,
  # so the load of fifty suites running at once cannot stretch what they time.
  swift test --skip-build --skip FaultTests
  echo "test: the fault tests, on their own" >&2
  swift test --skip-build --filter FaultTests
else
  swift test --skip-build "$@"
fi

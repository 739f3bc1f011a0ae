#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts a throwaway PostgreSQL cluster under the
# working tree, applies the schema, and simulates a WFCAM night as CASU delivers it.
#   WSA_NIGHT_DIR  where the simulated delivery goes (default .wsa/night)
#   WSA_SIM_ARGS   extra wfcamsim arguments (default: a small night with corrupt files)
#   WSA_BUILD      debug|release (default release: the simulator runs ~8x faster)
set -euo pipefail
export WSA_BUILD=${WSA_BUILD:-release}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
source scripts/setup.sh

wsa_install_packages
wsa_build

WSA_DATABASE=$(scripts/pg.sh start)
export WSA_DATABASE
"$WSA_BIN_DIR/wsadb" migrate --database "$WSA_DATABASE" --sql-dir sql

night=${WSA_NIGHT_DIR:-$root/.wsa/night}
rm -rf "$night"
# Two nights a year apart (proper motions), three programmes, 512² detectors, five damaged files.
# shellcheck disable=SC2086
"$WSA_BIN_DIR/wfcamsim" --out "$night" ${WSA_SIM_ARGS:---seed 20051012 --size 512 --programmes LAS,GPS,DXS --corrupt 5}
echo "main: simulated delivery in $night; database $WSA_DATABASE (scripts/pg.sh stop to stop it)"

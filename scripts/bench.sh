#!/usr/bin/env bash
# The benchmarks (never part of the tests). Builds in release mode, starts the throwaway cluster,
# simulates one full-size frame, then prints each of our figures beside its reference, measured
# side by side in the same run. Record the output in docs/benchmarks.md.
#   WSA_BENCH_ROWS    rows for the COPY benchmark (default 1000000)
#   WSA_BENCH_FRAMES  image frames of the simulated night for `wsabench night` (default 100)
#   WSA_BENCH_SIZE    their detector side (default 2048)
#   WSA_BENCH_MERGE   detections of the synthetic skies for `wsabench merge` (default "100000 1000000")
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
export WSA_BUILD=release
source scripts/setup.sh
WSA_APT_PACKAGES+=(fitspng)  # the reference of `wsabench night` for cu2
WSA_APT_PACKAGES+=(stilts)   # the reference of `wsabench merge` for cu8 (tmatch2)
wsa_install_packages
wsa_build

WSA_DATABASE=$(scripts/pg.sh start)
export WSA_DATABASE
"$WSA_BIN_DIR/wsadb" migrate --database "$WSA_DATABASE" --sql-dir sql >/dev/null

data=$root/.wsa/bench
if [ ! -f "$data/COMPLETE.bench" ]; then
  rm -rf "$data"
  "$WSA_BIN_DIR/wfcamsim" --out "$data" --seed 7 --size 2048 --programmes LAS --nights 20051012 \
    --pointings 1 --exposures 1 --quiet
  touch "$data/COMPLETE.bench"
fi
frame=$(find "$data" -name 'w*_sf_st.fit' | sort | head -1)

echo "== $(date -u +%FT%TZ) on $(nproc) cores, wsa $("$WSA_BIN_DIR/wsabench" --version)"
"$WSA_BIN_DIR/wsabench" fits "$frame" --repeat 3
"$WSA_BIN_DIR/wsabench" copy --database "$WSA_DATABASE" --rows "${WSA_BENCH_ROWS:-1000000}" --repeat 3

# The load server: a daemon on this database, a curator for the benchmark only.
bench_dir=$root/.wsa/bench-rpc
rm -rf "$bench_dir"
bench_password=$(head -c 18 /dev/urandom | base64)
wsa_start_dbrpcserver "$bench_dir" "$WSA_DATABASE" bench "$bench_password"
"$WSA_BIN_DIR/wsabench" rpc --database "$WSA_DATABASE" --url "$WSA_DAEMON_URL" \
  --user bench --password "$bench_password" --spool "$bench_dir/spool" \
  --rows "${WSA_BENCH_ROWS:-1000000}" --repeat 3

# A whole night through cu1–cu4 beside cp, cfitsio decoding, psql \copy and fitspng. It starts
# its own daemon on a fresh database; the night is simulated once into .wsa/bench-night/sim.
"$WSA_BIN_DIR/wsabench" night --database "$WSA_DATABASE" --bin-dir "$WSA_BIN_DIR" --sql-dir sql \
  --size "${WSA_BENCH_SIZE:-2048}" --frames "${WSA_BENCH_FRAMES:-100}" --work "$root/.wsa/bench-night"

# cu13 and cu14 beside bare SWarp and source-extractor on the same inputs (one LAS pointing, four
# frames per passband; its own fresh database and daemon; simulated once into .wsa/bench-products/sim).
"$WSA_BIN_DIR/wsabench" products --database "$WSA_DATABASE" --bin-dir "$WSA_BIN_DIR" --sql-dir sql \
  --size "${WSA_BENCH_SIZE:-2048}" --exposures 4 --work "$root/.wsa/bench-products"

# cu8 on 1 and 2 sessions beside one q3c_join statement and STILTS tmatch2 on the same rows: a
# synthetic LAS sky made in SQL per size (its own fresh database and daemon each).
# shellcheck disable=SC2086
"$WSA_BIN_DIR/wsabench" merge --database "$WSA_DATABASE" --bin-dir "$WSA_BIN_DIR" --sql-dir sql \
  --detections ${WSA_BENCH_MERGE:-100000 1000000} --sessions 2 --work "$root/.wsa/bench-merge"

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

cluster=$(scripts/pg.sh start)
psql_bin=$(command -v psql || echo /usr/lib/postgresql/15/bin/psql)
# A database of its own, made afresh each time: the run starts from an empty archive.
"$psql_bin" -X -q -v ON_ERROR_STOP=1 -d "$cluster" -c "DROP DATABASE IF EXISTS wsa_main WITH (FORCE)" -c "CREATE DATABASE wsa_main"
WSA_DATABASE=${cluster/dbname=wsa/dbname=wsa_main}
export WSA_DATABASE
"$WSA_BIN_DIR/wsadb" migrate --database "$WSA_DATABASE" --sql-dir sql

night=${WSA_NIGHT_DIR:-$root/.wsa/night}
rm -rf "$night"
# Two nights a year apart (proper motions), three programmes, 512² detectors, five damaged files.
# shellcheck disable=SC2086
"$WSA_BIN_DIR/wfcamsim" --out "$night" ${WSA_SIM_ARGS:---seed 20051012 --size 512 --programmes LAS,GPS,DXS --corrupt 5}

# The curation: a dbrpcserver on this database and a configuration for every program.
run=$root/.wsa/main
rm -rf "$run" && mkdir -p "$run"
wsa_start_dbrpcserver "$run" "$WSA_DATABASE" curator "$(head -c 18 /dev/urandom | base64)"
cat > "$run/wsa.toml" <<EOF
# Written by scripts/main.sh: the configuration of this demonstration run.
[database]
url = "$WSA_DATABASE"
reader_url = "${WSA_DATABASE/user=wsa/user=wsa_reader}"
[rpc]
url = "$WSA_DAEMON_URL"
user = "curator"
password_file = "rpc.password"
users_file = "users"
[paths]
delivery = "$night"
archive = "archive"
jpeg = "jpeg"
quarantine = "quarantine"
spool = "spool"
log = "log"
[logging]
level = "info"
EOF

echo "main: curating: curate --config $run/wsa.toml"
"$WSA_BIN_DIR/curate" --config "$run/wsa.toml"

echo
echo "main: what was curated"
"$psql_bin" -X -q -d "$WSA_DATABASE" -c "
  SELECT p.name AS programme,
         count(*) FILTER (WHERE m.frameType = 'normal') AS frames,
         count(*) FILTER (WHERE m.frameType = 'conf') AS conf_maps,
         (SELECT count(*) FROM MultiframeDetector d JOIN Multiframe x USING (multiframeID)
           WHERE x.programmeID = p.programmeID AND x.frameType = 'normal') AS detectors,
         (SELECT coalesce(sum(rowsLoaded), 0) FROM CatalogueIngest c JOIN Multiframe x USING (multiframeID)
           WHERE x.programmeID = p.programmeID) AS detections,
         (SELECT count(*) FROM CompressedImage c JOIN TransferLog t USING (transferID)
           WHERE t.programmeID = p.programmeID) AS jpegs
  FROM Multiframe m JOIN Programme p USING (programmeID) GROUP BY p.programmeID, p.name ORDER BY p.name;" \
  -c "SELECT p.name AS programme, f.shortName AS filter, m.frameType AS product, m.version,
         (SELECT count(*) FROM Provenance v WHERE v.combiframeID = m.multiframeID) AS inputs,
         coalesce((SELECT rowsLoaded FROM CatalogueIngest c WHERE c.multiframeID = m.multiframeID), 0) AS detections,
         regexp_replace(m.fileName, '^.*/', '') AS file
      FROM Multiframe m JOIN Programme p USING (programmeID) JOIN Filter f USING (filterID)
      WHERE m.frameType IN ('stack', 'mosaic', 'diff') AND m.deprecated = 0 ORDER BY 1, 3, 2, 7;" \
  -c "SELECT p.name AS programme, c.frameSets AS frame_sets, c.sources, c.seamless, c.remeasured
      FROM Programme p, LATERAL (SELECT * FROM curation.catalogue_counts(p.programmeID)) c
      WHERE p.programmeID > 0 AND c.frameSets > 0 ORDER BY p.name;" \
  -c "SELECT sourcePath AS quarantined, cuID AS found_by, reason FROM Quarantine ORDER BY sourcePath;" \
  -c "SELECT t.name AS cu, count(*) AS runs, count(*) FILTER (WHERE status = 'succeeded') AS succeeded
      FROM ProgrammeCurationHistory h JOIN CurationTask t USING (cuID) GROUP BY t.cuID, t.name ORDER BY t.cuID;"
echo "main: delivery in $night; archive, JPEGs, logs and configuration in $run; database $WSA_DATABASE (scripts/pg.sh stop to stop it)"

#!/usr/bin/env bash
# Installs what the project needs on a Debian machine (as root or through sudo) and builds it.
# Idempotent: installs only what is missing. Sourced by scripts/main.sh and scripts/test.sh.
#   WSA_BUILD=debug|release  build configuration (default debug)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages: the C libraries we link, PostgreSQL with q3c, the FITS and astronomy tools
# the curation programs drive, and Debian's Python with astropy for the tests.
WSA_APT_PACKAGES=(
  pkg-config libcfitsio-dev libcfitsio-bin wcslib-dev libjpeg-dev libpq-dev
  postgresql-15 postgresql-15-q3c postgresql-client-15
  fitsverify swarp source-extractor
  python3 python3-numpy python3-astropy python3-aiosmtpd python3-pil
  gzip ca-certificates curl openssl
)

wsa_sudo() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

wsa_install_packages() {
  local missing=()
  for p in "${WSA_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    wsa_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    wsa_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

wsa_build() {
  command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6 toolchain needed)" >&2; return 1; }
  local config=${WSA_BUILD:-debug}
  echo "setup: building ($config)" >&2
  local log
  log=$(mktemp)
  if ! (cd "$root" && swift build -c "$config" "$@") >"$log" 2>&1; then
    grep -vE '^\[[0-9]+/[0-9]+\]' "$log" | tail -40 >&2
    rm -f "$log"
    echo "setup: swift build failed" >&2
    return 1
  fi
  rm -f "$log"
  WSA_BIN_DIR=$(cd "$root" && swift build -c "$config" --show-bin-path)
  export WSA_BIN_DIR
}

# Starts dbrpcserver on database $2 with its users file, spool and log under directory $1, for
# one curator $3 with password $4 (written to $1/rpc.password). Sets WSA_DAEMON_PID and
# WSA_DAEMON_URL; stops the daemon when the calling script exits.
wsa_start_dbrpcserver() {
  local dir=$1 database=$2 user=$3 password=$4
  mkdir -p "$dir/spool" "$dir/log"
  ( umask 077 && echo "$password" > "$dir/rpc.password" )
  echo "$password" | "$WSA_BIN_DIR/dbrpcserver" hash-secret --user "$user" --role curator --iterations 10000 > "$dir/users"
  rm -f "$dir/port"
  WSA_PATHS_SPOOL="$dir/spool" WSA_PATHS_LOG="$dir/log" \
    "$WSA_BIN_DIR/dbrpcserver" serve --database "$database" --users-file "$dir/users" \
      --port 0 --port-file "$dir/port" > "$dir/dbrpcserver.out" 2>&1 &
  WSA_DAEMON_PID=$!
  trap 'kill $WSA_DAEMON_PID 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do [ -s "$dir/port" ] && break; sleep 0.1; done
  [ -s "$dir/port" ] || { echo "setup: dbrpcserver did not start:" >&2; cat "$dir/dbrpcserver.out" >&2; return 1; }
  WSA_DAEMON_URL="http://127.0.0.1:$(cat "$dir/port")/RPC2"
  export WSA_DAEMON_PID WSA_DAEMON_URL
}

# Debian's Python has astropy; a pyenv python3 earlier on PATH may not.
export WSA_PYTHON=${WSA_PYTHON:-/usr/bin/python3}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  wsa_install_packages
  wsa_build "$@"
  echo "setup: done; binaries in $WSA_BIN_DIR"
fi

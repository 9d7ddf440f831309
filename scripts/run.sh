#!/usr/bin/env bash
# Sets up what is missing, builds Levels, and runs it: by default the Somerset demo
# simulation on an embedded SQLite file (config/demo.toml). Ctrl-C stops it.
#   LEVELS_CONFIG=path/to.toml scripts/run.sh    another configuration
#   LEVELS_LIVE__HEARTBEAT_SECONDS=10 scripts/run.sh    any setting, by environment
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
echo "==> building the dashboard (trunk) and the server (cargo)"
trunk build --release --offline
cargo build --release --locked -p levels
exec "${CARGO_TARGET_DIR:-target}/release/levels" "${LEVELS_CONFIG:-config/demo.toml}"

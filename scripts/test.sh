#!/usr/bin/env bash
# Runs every test of Levels: formatting, lints, unit tests, and the end-to-end tests
# (real server, real SQLite, real websockets, real headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

echo "==> formatting"
cargo fmt --all -- --check
echo "==> lints"
cargo clippy --locked -p levels-shared -p levels -p levels-tests --all-targets -- -D warnings
cargo clippy --locked -p levels-frontend --target wasm32-unknown-unknown -- -D warnings
echo "==> building the dashboard the browser test loads"
trunk build --release --offline
echo "==> building the server binary the crash test runs and kills"
cargo build --locked -p levels --bin levels
echo "==> tests"
log=$(mktemp)
cargo test --locked -p levels-shared -p levels -p levels-tests 2>&1 | tee "$log"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "\ntests: %d passed, %d failed\n", p, f }' "$log"

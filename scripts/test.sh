#!/usr/bin/env bash
# Runs every test of Levels: formatting, lints, unit tests, and the end-to-end tests
# (real server, real SQLite, real websockets, real headless Chromium), then the unit and
# end-to-end tests again against a real PostgreSQL that scripts/postgres.sh installs and
# starts (all but the browser tests, which exercise the dashboard rather than the store).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh

echo "==> formatting"
cargo fmt --all -- --check
echo "==> lints"
cargo clippy --locked -p levels-shared -p levels -p levels-tests -p levels-bench --all-targets -- -D warnings
cargo clippy --locked -p levels-frontend --target wasm32-unknown-unknown -- -D warnings
echo "==> building the dashboard the browser test loads"
trunk build --release --offline
echo "==> building the server binary the crash test runs and kills"
cargo build --locked -p levels --bin levels
echo "==> tests"
log=$(mktemp)
cargo test --locked -p levels-shared -p levels -p levels-tests -p levels-bench 2>&1 | tee "$log"
echo "==> PostgreSQL"
# A server this run starts is stopped when it ends; one already running is left so.
if ! bash scripts/postgres.sh status; then
  trap 'bash scripts/postgres.sh stop >/dev/null 2>&1 || true' EXIT
fi
postgres_url=$(bash scripts/postgres.sh | tail -1)
echo "==> tests against PostgreSQL"
# Required: a test that finds no server fails rather than skipping.
LEVELS_TEST_POSTGRES_URL=$postgres_url LEVELS_TEST_REQUIRE_POSTGRES=1 \
  cargo test --locked -p levels -p levels-tests -- --skip browser:: 2>&1 | tee -a "$log"
echo "==> benchmark, quick (docs/performance.md): figures printed; fails only on lost or"
echo "    repeated deltas or a bundle over 400 KB gzipped"
bash scripts/bench.sh --quick
# One closing line for both runs, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "\ntests: %d passed, %d failed\n", p, f }' "$log"

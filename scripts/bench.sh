#!/usr/bin/env bash
# The benchmark (docs/performance.md): ingest, fan-out, memory per idle connection and the
# dashboard, each beside a baseline measured in the same run.
#
#   scripts/bench.sh           release build, full run (several minutes)
#   scripts/bench.sh --quick   the regression guard CI runs (under a minute): the debug
#                              server scripts/test.sh already built, small N, seconds per
#                              part
#
# Either way the run exits non-zero, its last line `verdict: FAIL`, on refused ingest, lost
# or repeated deltas or a bundle over 400 KB gzipped; never on timings.
#
# Further arguments go to levels-bench (e.g. --only fanout --clients 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

quick=false
for arg in "$@"; do
  [ "$arg" = --quick ] && quick=true
done
target=${CARGO_TARGET_DIR:-$PWD/target}

# Always: the bundle ceiling must judge the dashboard as it is now (quick when up to date).
echo "==> building the dashboard (release)"
trunk build --release --offline
if $quick; then
  profile=debug
  cargo build --locked -p levels -p levels-bench
else
  profile=release
  cargo build --locked --release -p levels -p levels-bench
fi
exec "$target/$profile/levels-bench" --levels "$target/$profile/levels" --dist dist "$@"

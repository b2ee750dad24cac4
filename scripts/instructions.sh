#!/bin/bash
# Instructions per connection of the connections/s workload (scripts/instructions-cps.mjs),
# counted by valgrind (cachegrind without the cache model): unlike time on a shared machine,
# where single runs vary by ±25 %, the count repeats to within ~1 % (V8 with --predictable: one
# thread, garbage collection included; a fixed young generation), so two builds can be compared
# one run each. The count is taken as the difference between WARM+N and WARM connections, so the
# start-up, the compilations and the warm-up are left out; WARM is past 35 rounds of 61 virtual
# seconds, where the clock's microseconds outgrow small integers and V8 re-specialises the code.
#
#   scripts/instructions.sh [DIR=.] [REF_DIR] [N=20000] [WARM=24000]
#
# DIR and REF_DIR are checkouts with dist/ built (an earlier commit: git worktree add /tmp/ref
# COMMIT && (cd /tmp/ref && ln -s "$PWD/node_modules" . && npx tsc -p .)). Needs valgrind (Debian:
# valgrind); about a minute per build. Per-function counts: run the same under
# `valgrind --tool=callgrind --dump-instr=yes` with node's --perf-basic-prof and attribute the
# JIT code's addresses through /tmp/perf-PID.map.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:-.}
REF=${2:-}
N=${3:-20000}
WARM=${4:-24000}
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt install valgrind)" >&2; exit 2; }
count() { # DIR CONNECTIONS_MEASURED -> instructions of the whole run
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --smc-check=all-non-file \
    node --single-threaded --predictable --min-semi-space-size=16 --max-semi-space-size=16 \
    "$HERE/instructions-cps.mjs" "$1" "$WARM" "$2" 2>&1 | awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}
per_conn() {
  local a b
  a=$(count "$1" 0)
  b=$(count "$1" "$N")
  echo $(( (b - a) / N ))
}
m=$(per_conn "$DIR")
echo "$DIR: $m instructions per connection (N=$N after $WARM)"
if [ -n "$REF" ]; then
  r=$(per_conn "$REF")
  echo "$REF: $r instructions per connection"
  python3 -c "print(f'ratio {int(\"$m\") / int(\"$r\"):.3f} ({\"$DIR\"} / {\"$REF\"})')"
fi

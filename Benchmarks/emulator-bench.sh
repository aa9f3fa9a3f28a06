#!/usr/bin/env bash
# Emulator benchmark (run by hand; figures in BENCHMARKS.md): throughput and caller-to-caller latency at
# concurrency 1, 2 and 8 with the release echo bootstrap, 10,000 invocations at concurrency 8 checked for lost or
# duplicated responses, and the cold start a caller sees (first invocation on a fresh emulator, median of 15).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bootstrap=$(deploy/build-bootstrap 2>/dev/null | tail -n 1)
swift build -c release --product flint >/dev/null
flint=$(swift build -c release --show-bin-path)/flint
n=${N:-4000}

start_emulator() {  # sets $emulator (pid) and $port
  local log; log=$(mktemp)
  "$flint" emulate echo --bootstrap "$bootstrap" --port 0 --quiet "$@" >"$log" 2>&1 &
  emulator=$!
  for _ in $(seq 200); do grep -q 'serving' "$log" && break; sleep 0.02; done
  port=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 | cut -d: -f2)
  rm -f "$log"
}

start_emulator
# Concurrency 1, 2, then 8: each level warms what it needs (200 invocations) before it is measured. The REPORT
# durations from /stats (dispatch to result, as the runtime sees it) give the emulator's own share by difference.
for c in 1 2 8; do
  "$flint" bench --url "http://127.0.0.1:$port" -n 200 -c "$c" >/dev/null
  "$flint" bench --url "http://127.0.0.1:$port" -n "$n" -c "$c"
  [ "$c" = 1 ] && { echo "  /stats after concurrency 1:"; curl -s "http://127.0.0.1:$port/stats"; echo; }
done
"$flint" bench --url "http://127.0.0.1:$port" -n 10000 -c 8
echo "emulator /stats (REPORT durations, dispatch to result):"
curl -s "http://127.0.0.1:$port/stats"; echo
kill -TERM "$emulator"; wait "$emulator" || true

echo "cold start seen by a caller (fresh emulator, first invocation), 15 runs, ms:"
times=()
for _ in $(seq 15); do
  start_emulator
  times+=("$(curl -s -o /dev/null -w '%{time_total}' -XPOST "http://127.0.0.1:$port/2015-03-31/functions/echo/invocations" -d '{}')")
  kill -TERM "$emulator"; wait "$emulator" || true
done
printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1*1000} END {printf "  median %.2f  p10 %.2f  p90 %.2f\n", a[int((NR+1)/2)], a[int(NR*0.1)+1], a[int(NR*0.9)]}'

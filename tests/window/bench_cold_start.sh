#!/usr/bin/env bash
# Cold-start benchmark of the field app window: time from exec to the first render of the
# capture screen (the app prints "balade-ui: first render"), and peak RSS at that point.
# Reference measured in the same run: `xmessage` (an empty X window, time to map) and `true`.
# Targets: < 1 s and < 150 MB. Usage: tests/window/bench_cold_start.sh [runs] (default 5).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
if [[ -z "${BALADE_IN_XVFB:-}" ]]; then
  export BALADE_IN_XVFB=1
  exec xvfb-run -a -s "-screen 0 1024x768x24" "$0" "$@"
fi
RUNS="${1:-5}"
BIN="${BALADE_BIN:-$ROOT/target/release/balade}"
[[ -x "$BIN" ]] || BIN="$ROOT/target/debug/balade"
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

app_times=(); app_rss=(); ref_times=(); true_times=()
for i in $(seq 1 "$RUNS"); do
  DATA="$(mktemp -d)"; LOG="$DATA/log"
  t0=$(now)
  "$BIN" --data "$DATA" >"$LOG" 2>&1 &
  pid=$!
  until grep -q "balade-ui: first render" "$LOG" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "app died: $(cat "$LOG")"; exit 1; }
    sleep 0.005
  done
  t1=$(now)
  rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$DATA"
  app_times+=("$(echo "$t1 - $t0" | bc)"); app_rss+=("$rss_kb")

  t0=$(now); xmessage -name benchref "ref" & rpid=$!
  xdotool search --sync --name '^ref$' >/dev/null 2>&1 || xdotool search --sync --classname benchref >/dev/null
  t1=$(now); kill "$rpid"; wait "$rpid" 2>/dev/null || true
  ref_times+=("$(echo "$t1 - $t0" | bc)")

  t0=$(now); true; t1=$(now); true_times+=("$(echo "$t1 - $t0" | bc)")
done
app_t=$(printf '%s\n' "${app_times[@]}" | median)
app_m=$(printf '%s\n' "${app_rss[@]}" | median)
ref_t=$(printf '%s\n' "${ref_times[@]}" | median)
true_t=$(printf '%s\n' "${true_times[@]}" | median)
printf '\n%-34s %12s %12s %10s\n' "cold start (median of $RUNS)" "time (s)" "peak RSS MB" "ratio"
printf '%-34s %12.3f %12.1f %10.1f\n' "balade: first render of capture" "$app_t" "$(echo "$app_m/1024" | bc -l)" "$(echo "$app_t/$ref_t" | bc -l)"
printf '%-34s %12.3f %12s %10.1f\n' "reference: xmessage window mapped" "$ref_t" "-" 1
printf '%-34s %12.4f %12s %10s\n' "reference: true" "$true_t" "-" "-"
printf 'targets: < 1 s -> %s ; < 150 MB -> %s\n' \
  "$(echo "$app_t < 1" | bc -l | sed 's/1/met/;s/0/MISSED/')" \
  "$(echo "$app_m/1024 < 150" | bc -l | sed 's/1/met/;s/0/MISSED/')"

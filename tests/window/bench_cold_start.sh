#!/usr/bin/env bash
# Cold-start benchmark of the field app window: time from exec to the first render of the
# capture screen (the app prints "balade-ui: first render" once the first frame's edits are
# applied) and memory at that moment: the app process's peak RSS (VmHWM) and the RSS of the
# whole process tree (WebKitGTK runs the page in child processes, which count too).
# Reference measured in the same run, same X server: `xmessage` (a plain X window, time until
# it is mapped) and `true` (process start). Targets: < 1 s and < 150 MB. The app process's peak
# RSS is read at first render and again after 2 s idle on the capture screen. The app keeps GTK
# and WebKit off GL and keeps its own process off EGL (ui::gl_off), so Mesa's software GL
# (libLLVM, ~49 MB of pages under Xvfb) is mapped only in the web process, which counts in the
# tree's PSS. To measure with GL on:
#   WEBKIT_DISABLE_COMPOSITING_MODE=0 WEBKIT_DISABLE_DMABUF_RENDERER=0 GDK_GL= tests/window/bench_cold_start.sh
#   tests/window/bench_cold_start.sh [runs]      (default 5; uses target/release/balade when
#   present, else target/debug/balade; BALADE_BIN=... to choose)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${1:-5}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
SRC="${BALADE_BIN:-$TARGET/release/balade}"
[[ -x "$SRC" ]] || SRC="$TARGET/debug/balade"
WORK="$(mktemp -d)"
XVFB=""
cleanup() { [[ -n "$XVFB" ]] && kill "$XVFB" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# A private copy: the shared target/ may be rebuilt meanwhile.
BIN="$WORK/balade"
cp "$SRC" "$BIN"

# A private X server (-displayfd picks a free display atomically).
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset 3>"$WORK/display" 2>"$WORK/xvfb.log" &
XVFB=$!
for _ in $(seq 1 300); do [[ -s "$WORK/display" ]] && break; sleep 0.1; done
export DISPLAY=":$(cat "$WORK/display")"
for _ in $(seq 1 300); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
tree_pss_kb() { # memory of a process and all its descendants, in kB
  local pids=("$1") i=0
  while (( i < ${#pids[@]} )); do
    for child in $(cat /proc/"${pids[$i]}"/task/*/children 2>/dev/null); do pids+=("$child"); done
    i=$((i + 1))
  done
  # PSS (shared pages divided among the processes sharing them): a sum that does not count
  # the same library pages once per process.
  for pid in "${pids[@]}"; do awk '/^Pss:/ {print $2}' /proc/"$pid"/smaps_rollup 2>/dev/null; done | awk '{s+=$1} END {print s+0}'
}

app_times=(); app_hwm=(); app_hwm_idle=(); app_pss=(); app_anon=(); app_tree=(); ref_times=(); true_times=()
for _ in $(seq 1 "$RUNS"); do
  DATA="$WORK/data"; rm -rf "$DATA"; mkdir -p "$DATA"; LOG="$WORK/app.log"; : >"$LOG"
  t0=$(now)
  "$BIN" --data "$DATA" >"$LOG" 2>&1 &
  pid=$!
  until grep -q "balade-ui: first render" "$LOG" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "app died: $(cat "$LOG")" >&2; exit 1; }
    sleep 0.002
  done
  t1=$(now)
  app_hwm+=("$(awk '/^VmHWM/ {print $2}' /proc/$pid/status)")
  app_pss+=("$(awk '/^Pss:/ {print $2}' /proc/$pid/smaps_rollup)")
  app_anon+=("$(awk '/^RssAnon/ {print $2}' /proc/$pid/status)")
  app_tree+=("$(tree_pss_kb "$pid")")
  sleep 2
  app_hwm_idle+=("$(awk '/^VmHWM/ {print $2}' /proc/$pid/status)")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  app_times+=("$(echo "$t1 - $t0" | bc -l)")

  t0=$(now); xmessage -name benchref "reference" & rpid=$!
  timeout 30 xdotool search --sync --onlyvisible --classname benchref >/dev/null
  t1=$(now); kill "$rpid"; wait "$rpid" 2>/dev/null || true
  ref_times+=("$(echo "$t1 - $t0" | bc -l)")

  t0=$(now); /bin/true; t1=$(now); true_times+=("$(echo "$t1 - $t0" | bc -l)")
done
app_t=$(printf '%s\n' "${app_times[@]}" | median)
hwm_mb=$(echo "$(printf '%s\n' "${app_hwm[@]}" | median) / 1024" | bc -l)
idle_mb=$(echo "$(printf '%s\n' "${app_hwm_idle[@]}" | median) / 1024" | bc -l)
pss_mb=$(echo "$(printf '%s\n' "${app_pss[@]}" | median) / 1024" | bc -l)
anon_mb=$(echo "$(printf '%s\n' "${app_anon[@]}" | median) / 1024" | bc -l)
tree_mb=$(echo "$(printf '%s\n' "${app_tree[@]}" | median) / 1024" | bc -l)
ref_t=$(printf '%s\n' "${ref_times[@]}" | median)
true_t=$(printf '%s\n' "${true_times[@]}" | median)
verdict() { if (( $(echo "$1" | bc -l) )); then echo met; else echo MISSED; fi; }
echo
echo "binary: $SRC ; $RUNS runs, medians ; $(nproc) cores"
printf '%-44s %10s %12s %14s %12s\n' "" "time (s)" "x xmessage" "app RSS (MB)" "tree PSS (MB)"
printf '%-44s %10.3f %12.1f %14.1f %12.1f\n' "balade: exec -> capture screen first render" "$app_t" "$(echo "$app_t / $ref_t" | bc -l)" "$hwm_mb" "$tree_mb"
printf '%-44s %10.3f %12.1f %14s %12s\n' "reference: xmessage window mapped" "$ref_t" 1 - -
printf '%-44s %10.4f %12.2f %14s %12s\n' "reference: true" "$true_t" "$(echo "$true_t / $ref_t" | bc -l)" - -
printf 'app process at first render: PSS %.1f MB, anonymous %.1f MB (the rest of its RSS is shared-library pages); peak RSS after 2 s idle %.1f MB\n' "$pss_mb" "$anon_mb" "$idle_mb"
echo "targets: time < 1 s: $(verdict "$app_t < 1") ; RSS < 150 MB (app process, peak after 2 s idle): $(verdict "$idle_mb < 150") ; (whole tree, PSS, informative): $(verdict "$tree_mb < 150")"

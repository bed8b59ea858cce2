#!/usr/bin/env bash
# Real-window test of the field app. A private Xvfb with a French keyboard (fr oss: every
# French letter and sign is a real key, so `xdotool type --delay 0` never remaps a keycode on
# the fly), a real `balade-sync serve` on a free loopback port with a temp data dir, enrolment,
# then the real `balade` window driven with xdotool: category, sub-category, a French comment
# typed at full speed, a photo path and a photo through the file picker, a position (the address and nearby furniture are found
# offline; the nearest bench is attached), save, queue, sync (F5), the operator schedules the
# request, sync again, the incident screen shows the planned date. Checks go through the app's
# own database (`balade queue --json`, `balade status --json`) and a screenshot of each screen.
#   tests/window/run.sh            (builds debug binaries first; BALADE_NO_BUILD=1 to skip)
#   BALADE_WINDOW_OFFLINE=1        capture part only, no server
#   BALADE_TILE_URL=http://…/{z}/{x}/{y}.png   the walk screen shows the Leaflet map on those
#                                  tiles instead of the plain plan (05-walk-plan.png)
# Screenshots go to $BALADE_ARTIFACTS/screens (default ./ci-artifacts/screens). Exit non-zero
# on failure. Every wait polls for a condition (generous limits for a loaded 2-core CI box).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
ART="${BALADE_ARTIFACTS:-$ROOT/ci-artifacts}/screens"
mkdir -p "$ART"
if [[ -z "${BALADE_NO_BUILD:-}" ]]; then
  cargo build -p balade-app -p balade-sync
fi
WORK="$(mktemp -d)"
# Private copies: the shared target/ may be rebuilt (e.g. without the UI feature) meanwhile.
BIN="$WORK/bin"
mkdir -p "$BIN"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
cp "$TARGET/debug/balade" "$TARGET/debug/balade-sync" "$BIN/"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
shot() { /usr/bin/import -window root "$ART/$1.png" && echo "screenshot $ART/$1.png"; }
fail() {
  echo "FAIL: $*" >&2
  shot "failure" || true
  for log in "$WORK"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2 || true; done
  exit 1
}
# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local limit="$1" what="$2"; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${limit}s waiting for: $what"
    sleep 0.2
  done
}
# press_until KEY SECONDS DESCRIPTION COMMAND...: presses KEY, then again every 15 s while
# COMMAND fails (a key sent while the window is still busy re-rendering can find no target).
press_until() {
  local key="$1" limit="$2" what="$3"; shift 3
  local deadline=$((SECONDS + limit)) next=0
  until "$@" >/dev/null 2>&1; do
    (( SECONDS < deadline )) || fail "timed out after ${limit}s waiting for: $what"
    if (( SECONDS >= next )); then xdotool key "$key"; next=$((SECONDS + 15)); fi
    sleep 0.2
  done
}
# Lets the webview paint after a key press before a screenshot (never used as a check).
settle() { sleep "${1:-0.7}"; }

# 1. A private X server. -displayfd picks a free display atomically (xvfb-run -a races with
# other X servers started at the same moment); -noreset keeps the keymap when the last client
# disconnects (without it setxkbmap's map is thrown away as soon as setxkbmap exits).
Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp -noreset 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
wait_until 30 "Xvfb display number" test -s "$WORK/display"
export DISPLAY=":$(cat "$WORK/display")"
wait_until 30 "Xvfb accepting clients" xdpyinfo
setxkbmap fr oss
setxkbmap -query >"$WORK/keymap.txt"
xkbcomp -w0 "$DISPLAY" - >>"$WORK/keymap.txt" 2>/dev/null
grep -q 'layout: *fr' "$WORK/keymap.txt" || fail "French keymap not active: $(setxkbmap -query)"
grep -q 'eacute' "$WORK/keymap.txt" || fail "no é key in the keymap"

COMMENT="Trou de 30 cm à côté du n° 12 — vélo tombé ; « très dangereux », Élodie l’a signalé à 8 h… œuvre 5 €"

# 1b. Reference: the same text typed into xev (a plain X client) shows what xdotool delivers,
# independently of the app.
xev -event keyboard -name balade-keyref >"$WORK/xev.log" 2>&1 &
XEV=$!
REF_WID="$(timeout 60 xdotool search --sync --name '^balade-keyref$' | head -1)"
[[ -n "$REF_WID" ]] || fail "xev window not found"
timeout 10 xdotool windowfocus --sync "$REF_WID" 2>/dev/null || xdotool windowfocus "$REF_WID"
xdotool type --delay 0 "$COMMENT"
settle 0.5
kill "$XEV"; wait "$XEV" 2>/dev/null || true
TYPED_REF="$(awk '/^KeyPress/ {p=1} /^KeyRelease/ {p=0}
  p && /XLookupString gives [1-9]/ {match($0, /"[^"]*"$/); printf "%s", substr($0, RSTART+1, RLENGTH-2)}' "$WORK/xev.log")"
[[ "$TYPED_REF" == "$COMMENT" ]] || fail "xdotool itself lost characters (reference X client got: $TYPED_REF)"
echo "reference X client received the comment intact (${#COMMENT} characters)"

# 2. Server on a free port, enrolment.
DEV="$WORK/device"
if [[ -n "${BALADE_WINDOW_OFFLINE:-}" ]]; then
  URL="http://127.0.0.1:9"
else
  "$BIN/balade-sync" serve --data "$WORK/server" --listen 127.0.0.1:0 >"$WORK/server.log" 2>&1 &
  PIDS+=($!)
  wait_until 120 "server listening" grep -q "listening on http://" "$WORK/server.log"
  URL="$(grep -o 'http://[0-9.:]*' "$WORK/server.log" | head -1)"
  CODE="$("$BIN/balade-sync" --data "$WORK/server" enroll --name fenetre | tail -1)"
  "$BIN/balade" --data "$DEV" --server "$URL" enroll "$CODE"
fi

queue_has() { "$BIN/balade" --data "$DEV" queue --json >"$WORK/poll.json" && grep -q "$1" "$WORK/poll.json"; }

# 3. The window.
"$BIN/balade" --data "$DEV" --server "$URL" >"$WORK/app.log" 2>&1 &
APP=$!
PIDS+=($APP)
wait_until 180 "first render of the window" grep -q "balade-ui: first render" "$WORK/app.log"
WID="$(timeout 60 xdotool search --sync --onlyvisible --name '^Balade$' | head -1)"
[[ -n "$WID" ]] || fail "no visible window named Balade"
# No window manager: give the window the keyboard focus directly.
timeout 10 xdotool windowfocus --sync "$WID" 2>/dev/null || xdotool windowfocus "$WID"
settle 1
# The window process stays off EGL (ui::gl_off: no Mesa driver, no libLLVM in it) while its
# web process, which draws the page, keeps EGL.
if grep -qE 'libEGL_mesa|swrast_dri|libLLVM' /proc/"$APP"/maps; then
  fail "the window process opened Mesa's EGL: $(grep -oE '[^ ]*(libEGL_mesa|swrast_dri|libLLVM)[^ ]*' /proc/"$APP"/maps | sort -u | tr '\n' ' ')"
fi
WEB=""
for child in $(cat /proc/"$APP"/task/*/children); do
  grep -q WebKitWebProcess /proc/"$child"/cmdline 2>/dev/null && WEB="$child"
done
[[ -n "$WEB" ]] || fail "no WebKitWebProcess under the window process"
echo "window process $APP: no EGL vendor loaded; web process $WEB"
# 3b. A walk (F1, then Alt+B = "Commencer la balade" with the default title): the incident
# captured next belongs to it, and the walk screen shows it on the plan at the end.
walk_open() { python3 -c "import sqlite3,sys; db=sqlite3.connect('file:$DEV/device.db?mode=ro', uri=True); sys.exit(0 if db.execute('select count(*) from walks where ended = 0').fetchone()[0] else 1)"; }
xdotool key F1
settle
press_until alt+b 60 "a walk started" walk_open
settle
xdotool mousemove --window "$WID" 500 185 click 1   # the search box, below the "Balade en cours" line
shot "01-capture-tiles"

# 4. Capture: Voirie then Nid-de-poule clicked; comment at full speed; photo; position of a
# city bench, so the address and the nearby bench are found offline; Alt+M attaches the bench.
read -r BENCH_ID BENCH_LAT BENCH_LON < <(awk -F, '$1=="banc" {print $2, $4, $5; exit}' assets/furniture/la-rochelle-furniture.csv)
PHOTO="$WORK/photo.jpg"
/usr/bin/convert -size 640x480 xc:steelblue -fill white -draw "circle 320,240 320,100" "$PHOTO"
# The form's draft file (written after each structural change) tells when the window has
# taken a step, so the next key goes to a field that exists.
draft_has() { grep -q "$1" "$DEV/ui-draft.json" 2>/dev/null; }
# Category then sub-category with the mouse, as on a touch screen: the "Voirie" tile (first
# tile, under the search box and the walk line), then "Nid-de-poule" (first sub-category).
xdotool mousemove --window "$WID" 150 268 click 1
wait_until 60 "the Voirie category picked" draft_has '"category": "voirie"'
settle
shot "01b-subcategories"
xdotool mousemove --window "$WID" 150 191 click 1
wait_until 60 "the pothole sub-category picked" draft_has '"subcategory": "nid_de_poule"'
settle
shot "02-details"
xdotool key alt+c
xdotool type --delay 0 "$COMMENT"
xdotool key alt+p
xdotool type --delay 0 "$PHOTO"
xdotool key Return
wait_until 60 "the photo in the form" draft_has '"path": ".*photo.jpg"'
# A second photo through the system's file picker (Alt+F): with no desktop portal here it is
# zenity's GTK file chooser; a path typed in its location field, Return picks the file.
PHOTO2="$WORK/photo2.jpg"
/usr/bin/convert -size 480x640 xc:darkorange -fill black -draw "rectangle 100,100 380,540" "$PHOTO2"
xdotool key alt+f
PICKER="$(timeout 60 xdotool search --sync --onlyvisible --class zenity | head -1)" || true
[[ -n "$PICKER" ]] || fail "Alt+F opened no file picker"
timeout 10 xdotool windowfocus --sync "$PICKER" 2>/dev/null || xdotool windowfocus "$PICKER"
settle
# Ctrl+L opens the chooser's location field; typing a "/" opens it too, but then the next
# keys race the field's appearance.
xdotool key ctrl+l
settle
xdotool type --delay 0 "$PHOTO2"
settle
shot "02b-file-picker"
xdotool key Return
wait_until 60 "the picked photo in the form" draft_has '"path": ".*photo2.jpg"'
timeout 10 xdotool windowfocus --sync "$WID" 2>/dev/null || xdotool windowfocus "$WID"
settle
xdotool key alt+l
xdotool type --delay 0 "$BENCH_LAT, $BENCH_LON"
xdotool key Return
wait_until 60 "the nearby bench suggested" draft_has "\"id\": \"$BENCH_ID\""
settle
# The form's own "asset" (top level, two-space indent), not the ones inside "nearby".
press_until alt+m 60 "the bench attached" draft_has '^  "asset": {'
settle
shot "03-filled"
xdotool key ctrl+Return
wait_until 60 "the incident in the device store" queue_has nid_de_poule
settle
shot "04-saved"

# 5. The app's own database has it, every character typed, the address and the bench.
"$BIN/balade" --data "$DEV" queue --json >"$WORK/queue.json"
ID="$(python3 - "$WORK/queue.json" "$COMMENT" <<'PY'
import json, sys
items = json.load(open(sys.argv[1]))
items = items if isinstance(items, list) else items.get("items", items)
assert len(items) == 1, items
item = items[0]
expected = sys.argv[2]
if item["comment"] != expected:
    got = item["comment"]
    missing = [c for i, c in enumerate(expected) if i >= len(got) or got[i] != c][:10]
    sys.exit(f"comment differs:\n  typed {expected!r}\n  saved {got!r}\n  first differences: {missing!r}")
assert item["subcategory"] == "nid_de_poule", item
assert item["local_state"] == "queued", item
assert item["n_photos"] == 2, item
print(item["id"])
PY
)" || fail "queue check"
echo "queue ok: comment intact, incident $ID"
python3 - "$DEV/device.db" "$ID" "$BENCH_ID" <<'PY' || fail "address/asset check"
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
(body,) = db.execute("select body from incidents where id = ?", (sys.argv[2],)).fetchone()
incident = json.loads(body)
address, asset = incident.get("address"), incident.get("asset")
assert address and "La Rochelle" in address["label"] and not address.get("edited"), body
assert asset and asset["kind"] == "banc" and asset["id"] == sys.argv[3], asset
assert incident.get("lambert93"), incident
assert incident.get("walk_id"), "captured during a walk: " + body
print("address found offline:", address["label"], "| asset:", asset["label"])
PY
xdotool key F3
settle
shot "05-queue"
xdotool key F1   # the walk screen: its incident on the plan and in the list
settle 1
shot "05-walk-plan"

if [[ -n "${BALADE_WINDOW_OFFLINE:-}" ]]; then echo "offline window test passed; screenshots in $ART"; exit 0; fi

# 6. Sync from the window (F5) until the server's reference comes back.
press_until F5 180 "a server reference after sync" queue_has '"reference": *"LR-'
"$BIN/balade" --data "$DEV" queue --json >"$WORK/queue.json"
REF="$(grep -o 'LR-[0-9]*-[0-9]*' "$WORK/queue.json" | head -1)"
xdotool key F3   # back to the queue (F5 syncs from any screen)
settle 1
shot "06-queue-synced"

# 7. The operator schedules it; sync again until the planned date reaches the device.
PLANNED="$(date -d '+10 days' +%Y-%m-%d)"
"$BIN/balade-sync" --data "$WORK/server" request schedule "$REF" --date "$PLANNED" --note "Équipe voirie nord"
press_until F5 180 "planned date $PLANNED in the device DB" queue_has "\"planned_date\": *\"$PLANNED\""
"$BIN/balade" --data "$DEV" status "$REF" --json >"$WORK/status.json"
grep -q "$PLANNED" "$WORK/status.json" || fail "status --json lacks $PLANNED: $(cat "$WORK/status.json")"
xdotool key F3
settle 1
shot "07-queue-scheduled"

# 8. Open the incident screen (Alt+O opens the first row) and photograph the timeline.
queue_has '"unread": *true' || fail "the planned date did not mark the incident unread"
xdotool key F3
settle
# Opening the incident marks it read in the store: that is how the script knows it is open.
press_until alt+o 90 "the incident screen opened (unread cleared)" queue_has '"unread": *false'
settle 1
shot "08-incident"
xdotool key End   # the status timeline, below the details
settle
shot "08-incident-timeline"
for key in F1 F4 F6; do xdotool key "$key"; settle; shot "09-screen-$key"; done
kill -0 "$APP" || fail "the app exited"
echo "window test passed ($REF planned $PLANNED); screenshots in $ART"

#!/usr/bin/env bash
# Puts the French letters and signs an agent types (é è à ç ù ê â î ô û ë ï œ æ ° — – « » € ’ …)
# on real keys of the running X server (spare keycodes, lower case on level 1 and upper case
# on level 2), so `xdotool type --delay 0` finds a key for each of them and never has to remap
# a keycode on the fly. That on-the-fly remapping races with the receiving app at full speed
# (the key press arrives after xdotool put the keycode back: the app sees NoSymbol and the
# letter is lost). Run it once, before the app starts, in the Xvfb session.
#
# Why not `setxkbmap fr`: on this Xvfb (xorg 21.1.7) setxkbmap returns 0, the server compiles
# the French map, yet the core keyboard map and _XKB_RULES_NAMES stay "us" (checked with
# `xkbcomp $DISPLAY -` and xev), so the accented letters stay unmapped. The core-protocol
# mapping used here (xmodmap, package x11-xserver-utils) is what xdotool itself uses, and sticks.
set -euo pipefail
pairs=(
  "eacute Eacute" "egrave Egrave" "agrave Agrave" "ccedilla Ccedilla" "ugrave Ugrave"
  "ecircumflex Ecircumflex" "acircumflex Acircumflex" "icircumflex Icircumflex"
  "ocircumflex Ocircumflex" "ucircumflex Ucircumflex" "ediaeresis Ediaeresis"
  "idiaeresis Idiaeresis" "oe OE" "ae AE" "degree degree" "emdash emdash" "endash endash"
  "guillemotleft guillemotleft" "guillemotright guillemotright" "EuroSign EuroSign"
  "rightsinglequotemark rightsinglequotemark" "ellipsis ellipsis" "nobreakspace nobreakspace"
)
# Spare keycodes: those with no keysym at all, then F13..F24 (191..202: no PC keyboard has them).
# Keycode 8 is left free for xdotool's own fallback.
mapfile -t spare < <(xmodmap -pke | awk '$1=="keycode" && $3=="=" && NF==3 && $2>8 {print $2}')
spare+=(191 192 193 194 195 196 197 198 199 200 201 202)
declare -A used=()
free=()
for k in "${spare[@]}"; do [[ -z "${used[$k]:-}" ]] && { used[$k]=1; free+=("$k"); }; done
(( ${#free[@]} >= ${#pairs[@]} )) || { echo "french_keys: only ${#free[@]} spare keycodes" >&2; exit 1; }
expr=()
for i in "${!pairs[@]}"; do expr+=(-e "keycode ${free[$i]} = ${pairs[$i]}"); done
xmodmap "${expr[@]}"
# Check: every keysym is now on a key.
table="$(xmodmap -pke)"
for pair in "${pairs[@]}"; do
  for sym in $pair; do
    grep -qw -- "$sym" <<<"$table" || { echo "french_keys: $sym not mapped" >&2; exit 1; }
  done
done
echo "french_keys: ${#pairs[@]} keys mapped"

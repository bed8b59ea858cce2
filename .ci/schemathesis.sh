#!/usr/bin/env bash
# Property-based API check: schemathesis reads the OpenAPI document the server generates from its
# code (/api/openapi.json) and sends generated requests to a real `balade-sync serve --demo` on a
# free loopback port. Checks: no 5xx, and responses conform to the documented status codes,
# content types and schemas. Bounded examples so it finishes in a few minutes.
# Usage: .ci/schemathesis.sh [path/to/balade-sync]   (default: target/debug/balade-sync, built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath -m "${1:-${CARGO_TARGET_DIR:-target}/debug/balade-sync}")"
[ -x "$bin" ] || cargo build -p balade-sync --bin balade-sync
venv="$(realpath -m "${SCHEMATHESIS_VENV:-target/schemathesis-venv}")"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "schemathesis==4.*"
fi
data="$(mktemp -d)"
out="$data/server.out"
# An admin API key (exports, dead letters, Open311 POSTs) made before the server starts.
api_key="$("$bin" --data "$data" apikey add --name schemathesis | tail -n 1)"
"$bin" --data "$data" serve --listen 127.0.0.1:0 --demo >"$out" 2>"$data/server.err" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 200); do
  grep -q '^listening on ' "$out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$data/server.err" >&2; exit 1; }
  sleep 0.1
done
base="$(head -n 1 "$out" | sed 's/^listening on //')"
echo "server at $base"
# A device token from the demo enrolment code (second stdout line), for the device API.
code="$(sed -n 's/^demo enrolment code: //p' "$out")"
token="$(curl -fsS -H 'content-type: application/json' \
  -d "{\"protocol\":1,\"code\":\"$code\",\"device_name\":\"schemathesis\"}" "$base/api/v1/enroll" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
# The tus PATCH body (application/offset+octet-stream) is sent as raw bytes (see the hooks file).
# Generated tus requests carry no valid upload id/metadata, so they exercise the 400/404/409/412/
# 413/415 answers; the happy path (create, chunks, checksum, resume) is in tests/sync_api.rs.
export SCHEMATHESIS_HOOKS="$(realpath .ci/schemathesis_hooks.py)"
cd "$data" # schemathesis writes its .schemathesis/ cache in the working directory
"$venv/bin/schemathesis" run "$base/api/openapi.json" \
  --url "$base" \
  -H "Authorization: Bearer $token" -H "X-Api-Key: $api_key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-30}" \
  --request-timeout 10 \
  --seed 1

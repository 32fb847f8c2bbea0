# Sourced by .ci/schemathesis and .ci/audit: builds the debug binary and starts
# it on the demo data in a fresh temporary data folder on a free loopback port.
# Sets $base (the server's address) and $work (the temporary folder), and
# stops the server and removes the folder when the calling script exits.
# Helper: demo_token LOGIN PASSWORD prints a bearer token.
cargo build --quiet --bin fuzhi
work=$(mktemp -d)
server=
demo_server_cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap demo_server_cleanup EXIT
mkdir -p "$work/data"
DATABASE_URL="sqlite://$work/data/fuzhi.db?mode=rwc" \
  FUZHI_DATA_DIR="$work/data" \
  FUZHI_COURSES_DIR="$root/courses" \
  FUZHI_MAIL__WORKER=false \
  FUZHI_LOG=warn \
  target/debug/fuzhi serve --demo --addr 127.0.0.1:0 >"$work/out.log" 2>"$work/err.log" &
server=$!
base=
for _ in $(seq 1 600); do
  base=$(sed -n 's/^fuzhi: serving on //p' "$work/out.log")
  [ -n "$base" ] && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "the server ended before it answered:" >&2
    tail -20 "$work/err.log" >&2
    exit 1
  fi
  sleep 0.2
done
[ -n "$base" ] || { echo "the server did not answer in 120 s" >&2; exit 1; }

demo_token() {
  python3 - "$base" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, login, password = sys.argv[1:]
req = urllib.request.Request(base + "/api/v1/auth/login",
                             data=json.dumps({"login": login, "password": password}).encode(),
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req) as r:
    print(json.load(r)["token"])
PY
}

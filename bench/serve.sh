#!/usr/bin/env bash
# runner serve under load (issue 13's figures), with 10,000 runs in history
# and a recipe running:
#   1. first byte of the overview after a start with 10,000 runs (< 1 s);
#   2. vegeta at 200 requests/s for DURATION (60 s; SHORT=1: 10 s), half on
#      the HTML pages (overview, runs list, a run page) and half on the JSON
#      API: 100% success, p99 < 100 ms for JSON and < 250 ms for HTML;
#   3. at the same time, 200 clients on the running task's live log, each
#      seeing every new line within 1 s (bench/sseclients);
#   4. the server's peak RSS (< 150 MiB).
# Needs vegeta v12.13.0 (installed with `go install` when missing) and curl.
# Exits 1 when a threshold is missed. Results go to bench/results/serve*.txt.
source "$(dirname "$0")/lib.sh"

need curl "apt-get install curl"
if ! command -v vegeta >/dev/null; then
  GOBIN="$work/bin" go install github.com/tsenart/vegeta/v12@v12.13.0
  export PATH="$work/bin:$PATH"
fi
duration=${DURATION:-60s}
[ "${SHORT:-}" = 1 ] && duration=10s
port=${PORT:-18480}
base="http://127.0.0.1:$port"
token=bench-operator-token-0123456789abcdef
export RUNNER_SERVE_OPERATOR_TOKEN=$token
auth="Authorization: Bearer $token"
result="$out/serve${SHORT:+-short}.txt"

go build -o "$work/runner" ./cmd/runner
go build -o "$work/sseclients" ./bench/sseclients
mkdir -p "$work/recipes"
cat >"$work/recipes/history.yaml" <<'YAML'
version: 1
name: history
schedule: {cron: "0 4 * * 0", timezone: Asia/Seoul}
tasks:
  step-0: {uses: shell, with: {run: "true"}}
  step-1: {uses: shell, needs: step-0, with: {run: "true"}}
  step-2: {uses: shell, needs: step-1, with: {run: "true"}}
  step-3: {uses: shell, needs: step-2, with: {run: "true"}}
  step-4: {uses: shell, needs: step-3, with: {run: "true"}}
YAML
cat >"$work/recipes/ticker.yaml" <<'YAML'
version: 1
name: ticker
vars:
  seconds: 30
tasks:
  tick:
    uses: shell
    with:
      run: |
        end=$(( $(date +%s) + ${{ vars.seconds }} ))
        while [ "$(date +%s)" -lt "$end" ]; do echo "tick $(date +%s%N)"; sleep 0.25; done
YAML
go run ./bench/genruns -recipe "$work/recipes/history.yaml" -n 10000 >/dev/null

serve() {
  "$work/runner" serve "$work/recipes" --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  pid=$!
  cleanup+=("kill $pid")
}

echo "== first byte of the overview, 10,000 runs in history" | tee "$result"
t0=$(date +%s%N)
serve
until curl -sf -o /dev/null -H "$auth" "$base/"; do
  kill -0 "$pid" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.01
done
first_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "first byte after start: ${first_ms} ms (target < 1000 ms)" | tee -a "$result"

run_id=$(curl -sf -X POST -H "$auth" -H 'Content-Type: application/json' \
  -d "{\"vars\": {\"seconds\": \"$(( ${duration%s} + 15 ))\"}}" "$base/api/v1/recipes/ticker/runs" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
[ -n "$run_id" ] || { echo "could not start the ticker run" >&2; cat "$work/serve.log" >&2; exit 1; }
old=$(curl -sf -H "$auth" "$base/api/v1/runs?recipe=history&per_page=1&page=5000" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -n1)
sleep 1

printf 'GET %s/\nGET %s/runs\nGET %s/runs?page=100\nGET %s/runs/%s\nGET %s/runs/%s\n' \
  "$base" "$base" "$base" "$base" "$old" "$base" "$run_id" | sed "s|\$|\n$auth\n|" >"$work/html.targets"
printf 'GET %s/api/v1/recipes\nGET %s/api/v1/runs\nGET %s/api/v1/runs?status=failed&page=3\nGET %s/api/v1/runs/%s\nGET %s/api/v1/runs/%s\n' \
  "$base" "$base" "$base" "$base" "$old" "$base" "$run_id" | sed "s|\$|\n$auth\n|" >"$work/json.targets"

echo "== $duration at 200 requests/s (100 HTML + 100 JSON), 200 live-log clients" | tee -a "$result"
"$work/sseclients" -n 200 -for "$duration" -token "$token" \
  -url "$base/api/v1/runs/$run_id/tasks/tick/log/stream" >"$work/sse.txt" 2>&1 &
sse=$!
vegeta attack -targets "$work/html.targets" -rate 100 -duration "$duration" -timeout 5s >"$work/html.bin" &
html=$!
vegeta attack -targets "$work/json.targets" -rate 100 -duration "$duration" -timeout 5s >"$work/json.bin"
wait "$html"
sse_ok=0
wait "$sse" || sse_ok=$?
rss_kib=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

fail=0
for kind in html json; do
  vegeta report -type=json "$work/$kind.bin" >"$work/$kind.json"
  p99=$(grep -o '"99th":[0-9]*' "$work/$kind.json" | cut -d: -f2)
  success=$(grep -o '"success":[0-9.]*' "$work/$kind.json" | cut -d: -f2)
  limit=$([ "$kind" = html ] && echo 250 || echo 100)
  echo "-- $kind" | tee -a "$result"
  vegeta report "$work/$kind.bin" | tee -a "$result"
  echo "p99 $(( p99 / 1000000 )) ms (target < $limit ms), success $success (target 1)" | tee -a "$result"
  [ "$(( p99 / 1000000 ))" -lt "$limit" ] && [ "$success" = 1 ] || fail=1
done
echo "-- live logs" | tee -a "$result"
tee -a "$result" <"$work/sse.txt"
[ "$sse_ok" = 0 ] || fail=1
echo "peak RSS $(( rss_kib / 1024 )) MiB (target < 150 MiB)" | tee -a "$result"
[ "$rss_kib" -lt $(( 150 * 1024 )) ] || fail=1
[ "$first_ms" -lt 1000 ] || fail=1
exit "$fail"

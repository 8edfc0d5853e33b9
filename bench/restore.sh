#!/usr/bin/env bash
# Restore figures, side by side in one run, from a local versitygw: a set
# with a 1 GiB SQLite graph and 10 projects × 300 episodes, made by
# weekly-backup.yaml. Measures the full restore (wall time, peak RSS) and
# s3get of the whole set against `aws s3 cp --recursive` of the same set
# (runner's time includes verifying every object's SHA-256). Target: ≥ 1.5×.
source "$(dirname "$0")/lib.sh"
vgw=${RUNNER_TEST_VERSITYGW:-$(command -v versitygw)}
cleanup+=('[ -z "${vgw_pid:-}" ] || kill "$vgw_pid" 2>/dev/null')
go build -o "$work/runner" ./cmd/runner
mkdir -p "$work/s3/bench" "$work/factory/projects" "$work/factory/graph"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$vgw" --port 127.0.0.1:$port --access benchkey --secret benchsecret123 --region us-east-1 posix "$work/s3" >/dev/null 2>&1 &
vgw_pid=$!
sleep 1
endpoint=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 CI=true

echo "== making the factory: 10 projects × 300 episodes, a 1 GiB SQLite graph"
go run ./bench/gencorpus -kind episodes -dir "$work/factory/projects"
sqlite3 "$work/factory/graph/story.db" "CREATE TABLE t(b BLOB); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 16384) INSERT INTO t SELECT randomblob(65536) FROM c;"
s3="--set endpoint=$endpoint --set path_style=true"
"$work/runner" apply recipes/weekly-backup.yaml --set factory="$work/factory" --set database="$work/factory/graph/story.db" \
  --set target=s3://bench/weekly $s3 --state-dir "$work/state" >/dev/null
set_url=$(ls -d "$work"/s3/bench/weekly/*/ | head -1); set_name=$(basename "$set_url")
echo "set $set_name: $(du -sh "$set_url" | cut -f1)"
cat > "$work/get.yaml" <<YAML
version: 1
tasks:
  get:
    uses: s3get
    with: {from: "s3://bench/weekly/$set_name/", dest: "$work/get", endpoint: "$endpoint", path_style: true}
YAML
hyperfine --warmup 1 --runs 5 --export-markdown "$out/restore-get.md" --prepare "rm -rf $work/get $work/aws; sync" \
  -n "runner s3get (with SHA-256 checks)" "$work/runner apply $work/get.yaml --state-dir $work/state >/dev/null" \
  -n "aws s3 cp --recursive" "/usr/bin/aws --endpoint-url $endpoint s3 cp --recursive --only-show-errors s3://bench/weekly/$set_name/ $work/aws/"
rm -rf "$work/fresh" "$work/dl"
/usr/bin/time -v "$work/runner" apply recipes/restore.yaml --set source=s3://bench/weekly --set dest="$work/fresh" \
  --set database="$work/fresh/graph/story.db" --set download="$work/dl" $s3 --state-dir "$work/state" 2> "$work/time.txt" >/dev/null
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt")
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
echo "full restore of set $set_name ($(du -sh "$set_url" | cut -f1)): wall $wall, peak RSS $((rss / 1024)) MiB, $(find "$work/fresh/projects" -name '*.md' | wc -l) episodes" | tee "$out/restore-full.txt"

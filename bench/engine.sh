#!/usr/bin/env bash
# Engine figures, measured side by side in one run:
#   1. 1,000 shell tasks running `true`, as a 10-wide layered DAG and as 10
#      independent chains of 100: runner vs go-task, default flags on both.
#   2. `runner validate` of that 1,000-task recipe (target < 100 ms).
#   3. `runner version` (target < 20 ms).
# Needs hyperfine (apt-get install hyperfine) and go-task v3.54.0, which it
# installs with `go install` when missing. Results go to bench/results/.
# RUNS=N sets the runs of the slow comparisons (15 by default).
source "$(dirname "$0")/lib.sh"

need hyperfine "apt-get install hyperfine"
if ! command -v task >/dev/null; then
  GOBIN="$work/bin" go install github.com/go-task/task/v3/cmd/task@v3.54.0
  export PATH="$work/bin:$PATH"
fi
go build -o "$work/runner" ./cmd/runner
go run ./bench/gendag -dir "$work" -width 10 -depth 100
mkdir -p "$work/chains" "$work/sh" "$work/chains-sh"
go run ./bench/gendag -dir "$work/chains" -width 10 -depth 100 -chains
# the same with `shell: sh`: a fork of /bin/sh per task, as before issue 12
go run ./bench/gendag -dir "$work/sh" -width 10 -depth 100 -shell sh
go run ./bench/gendag -dir "$work/chains-sh" -width 10 -depth 100 -chains -shell sh

echo "== 1,000 true tasks, 10-wide DAG (runner --jobs default = $(nproc) CPUs; go-task unbounded)"
hyperfine --warmup 2 --runs "${RUNS:-15}" --export-markdown "$out/engine-dag.md" \
  -n "runner apply" "$work/runner apply $work/dag.yaml --state-dir $work/state >/dev/null" \
  -n "runner apply --jobs 10" "$work/runner apply $work/dag.yaml --jobs 10 --state-dir $work/state >/dev/null" \
  -n "runner apply, shell: sh" "$work/runner apply $work/sh/dag.yaml --state-dir $work/state >/dev/null" \
  -n "go-task" "task --taskfile $work/Taskfile.yml --silent all"

echo "== 1,000 true tasks, 10 independent chains of 100"
hyperfine --warmup 2 --runs "${RUNS:-15}" --export-markdown "$out/engine-chains.md" \
  -n "runner apply" "$work/runner apply $work/chains/dag.yaml --state-dir $work/state >/dev/null" \
  -n "runner apply, shell: sh" "$work/runner apply $work/chains-sh/dag.yaml --state-dir $work/state >/dev/null" \
  -n "go-task" "task --taskfile $work/chains/Taskfile.yml --silent all"

echo "== validate a 1,000-task recipe; version"
hyperfine --warmup 3 --runs 30 -N --export-markdown "$out/engine-cli.md" \
  -n "runner validate (1,000 tasks)" "$work/runner validate $work/dag.yaml" \
  -n "go-task --list-all (1,000 tasks)" "task --taskfile $work/Taskfile.yml --list-all" \
  -n "runner version" "$work/runner version" \
  -n "go-task --version" "task --version"

echo "== in-process engine overhead (no-op task type)"
go test -run '^$' -bench 'EngineOverhead|Load1000' -benchtime 20x -count 3 ./engine/scheduler ./engine/recipe | tee "$out/engine-go-bench.txt"

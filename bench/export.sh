#!/usr/bin/env bash
# The distributed path's figure (issue 15), side by side in one run: the
# 50-project fan-out (cmd/runner/disttest/testdata/fanout) run by
# `runner apply --jobs 8` and by the distrun harness with 8 workers — every
# step a `runner exec` process in its own folder with its own copy of the
# image, state and files through S3 — both against one local versitygw on
# the same cores. Target: overhead per task execution
# = (distributed − local) / number of runner exec processes < 100 ms.
# Needs: versitygw (go install
# github.com/versity/versitygw/cmd/versitygw@v1.8.0). Results: bench/results/.
source "$(dirname "$0")/lib.sh"
projects=${PROJECTS:-50}
episodes=${EPISODES:-20}
runs=${RUNS:-5}
vgw=${RUNNER_TEST_VERSITYGW:-$(command -v versitygw)}
cleanup+=('[ -z "${vgw_pid:-}" ] || kill "$vgw_pid" 2>/dev/null')

go build -o "$work/runner" ./cmd/runner
go build -o "$work/distbench" ./bench/distbench
mkdir -p "$work/s3/bench" "$work/tree" "$work/runs"
cp -r cmd/runner/disttest/testdata/fanout "$work/tree/fanout"
go run ./bench/gencorpus -kind episodes -projects "$projects" -episodes "$episodes" -dir "$work/tree/projects"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$vgw" --port 127.0.0.1:$port --access benchkey --secret benchsecret123 --region us-east-1 posix "$work/s3" >/dev/null 2>&1 &
vgw_pid=$!
until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do sleep 0.1; done
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123 AWS_REGION=us-east-1 CI=true

# Each step's folder gets the image twice over: copied (as the tests do:
# nothing shared), then hard-linked (as a container shares its image's
# layers), to tell the harness's copying from runner's own cost.
for how in copy link; do
  echo "== $projects projects × $episodes episodes, $runs runs each, 8 at once, image: $how"
  rm -rf "$work/runs" "$work/s3/bench/"* && mkdir "$work/runs"  # an empty bucket for each
  {
    echo "$projects projects × $episodes episodes ($(du -sh "$work/tree/projects" | cut -f1)), $runs runs each, $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    "$work/distbench" -runner "$work/runner" -tree "$work/tree" -endpoint "http://127.0.0.1:$port" \
      -workers 8 -runs "$runs" -work "$work/runs" $([ $how = link ] && echo -link)
  } | tee "$out/export-$how.md"
done

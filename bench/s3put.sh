#!/usr/bin/env bash
# s3put figures, side by side in one run: a 2 GiB file uploaded to a local
# versitygw (posix backend, on the same disk) by runner's s3put and by
# Debian's aws-cli (`/usr/bin/aws s3 cp`), plus `dd conv=fsync` of the same
# size as what the disk itself writes. (Debian's rclone 1.60 is left out:
# versitygw 1.8.0 answers its multipart uploads with InternalError, and
# rclone then retries for minutes.) Target: ≥ 2× aws-cli's
# throughput, within 25% of dd, runner's peak RSS < 150 MiB.
# Needs: hyperfine, awscli (apt-get), versitygw (go install
# github.com/versity/versitygw/cmd/versitygw@v1.8.0). Results: bench/results/.
source "$(dirname "$0")/lib.sh"
size_mib=${SIZE_MIB:-2048}
vgw=${RUNNER_TEST_VERSITYGW:-$(command -v versitygw)}
cleanup+=('[ -z "${vgw_pid:-}" ] || kill "$vgw_pid" 2>/dev/null')

go build -o "$work/runner" ./cmd/runner
mkdir -p "$work/s3/bench"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$vgw" --port 127.0.0.1:$port --access benchkey --secret benchsecret123 --region us-east-1 posix "$work/s3" >/dev/null 2>&1 &
vgw_pid=$!
sleep 1
endpoint=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=benchkey AWS_SECRET_ACCESS_KEY=benchsecret123 AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

echo "== making a ${size_mib} MiB incompressible file"
head -c $((size_mib << 20)) /dev/urandom > "$work/big.bin"
cat > "$work/put.yaml" <<YAML
version: 1
tasks:
  put:
    uses: s3put
    with: {files: ["$work/big.bin"], to: "s3://bench/runner/", endpoint: "$endpoint", path_style: true}
YAML
clean="rm -rf $work/s3/bench/* $work/dd.out; sync"
hyperfine --warmup 1 --runs 5 --export-markdown "$out/s3put.md" --prepare "$clean" \
  -n "runner s3put" "$work/runner apply $work/put.yaml --state-dir $work/state >/dev/null" \
  -n "aws s3 cp (awscli 2.9)" "/usr/bin/aws --endpoint-url $endpoint s3 cp --only-show-errors $work/big.bin s3://bench/aws/big.bin" \
  -n "dd conv=fsync (the disk)" "dd if=$work/big.bin of=$work/dd.out bs=16M conv=fsync status=none"

eval "$clean"
/usr/bin/time -v "$work/runner" apply "$work/put.yaml" --state-dir "$work/state" 2> "$work/time.txt" >/dev/null
rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$work/time.txt")
echo "runner s3put of ${size_mib} MiB: peak RSS $((rss / 1024)) MiB" | tee "$out/s3put-rss.txt"

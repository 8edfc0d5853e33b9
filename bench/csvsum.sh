#!/usr/bin/env bash
# csvsum figures, side by side in one run: the sum of 판매금액 per day over a
# 5,000,000-row sales export (BOM, CRLF, Korean headers, quoted thousands
# separators, dates in four forms) in UTF-8 and in CP949 —
#   runner csvsum  vs  DuckDB (@duckdb/node-api, 2 threads)  vs  Miller (mlr -S).
# DuckDB and Miller cannot read CP949, so they get that file through iconv
# (timed). Targets: faster than DuckDB on both files, ≥ 20× Miller, both
# cores used, peak RSS < 100 MiB. Every tool's totals are checked against the
# generator's independent integer sums. Results go to bench/results/csvsum-*.
source "$(dirname "$0")/lib.sh"
need hyperfine mlr node npm iconv "apt-get install hyperfine miller nodejs npm"
rows=${ROWS:-5000000}
go build -o "$work/runner" ./cmd/runner
go run ./bench/gensales -dir "$work" -rows "$rows"
(cd "$work" && npm install --silent --no-audit --no-fund @duckdb/node-api@1.5.6-r.1 >/dev/null)
cp bench/duckdb-sum.mjs "$work/"
ls -l "$work"/sales-*.csv
cat > "$work/sum.yaml" <<'YAML'
version: 1
vars: {src: "", dest: ""}
tasks:
  sum:
    uses: csvsum
    with:
      src: "${{ vars.src }}"
      group_by: [판매일시]          # dates are normalised to YYYY-MM-DD
      aggregate: {판매금액: sum}
      dest: "${{ vars.dest }}"
YAML
runner="$work/runner apply $work/sum.yaml --state-dir $work/state"
: > "$out/csvsum-extra.txt"
for enc in utf8 cp949; do
  src="$work/sales-$enc.csv"
  if [ $enc = utf8 ]; then
    duck="node $work/duckdb-sum.mjs $src $work/duck-$enc.csv"
    mlr="mlr -S --icsv --ocsv put -f bench/csvsum.mlr then stats1 -a sum -f 판매금액 -g date then sort -f date $src > $work/mlr-$enc.csv"
  else
    duck="iconv -f CP949 -t UTF-8 $src > $work/conv.csv && node $work/duckdb-sum.mjs $work/conv.csv $work/duck-$enc.csv"
    mlr="iconv -f CP949 -t UTF-8 $src | mlr -S --icsv --ocsv put -f bench/csvsum.mlr then stats1 -a sum -f 판매금액 -g date then sort -f date > $work/mlr-$enc.csv"
  fi
  echo "== $enc: $(du -h "$src" | cut -f1)"
  hyperfine --warmup 1 --runs 5 --export-markdown "$out/csvsum-$enc.md" \
    -n "runner csvsum" "$runner --set src=$src --set dest=$work/runner-$enc.csv >/dev/null" \
    -n "duckdb (2 threads)" "$duck"
  hyperfine --runs 1 --export-markdown "$out/csvsum-$enc-miller.md" -n "mlr -S" "$mlr"
  {
    echo "$enc runner: $(/usr/bin/time -f '%M KiB peak RSS, %P CPU' $runner --set src=$src --set dest=$work/runner-$enc.csv 2>&1 >/dev/null | tail -1)"
    for t in runner duck mlr; do
      if diff -q <(tail -n +2 "$work/$t-$enc.csv" | tr -d '"') <(tail -n +2 "$work/expected.csv") >/dev/null; then
        echo "$enc $t totals: match the independent sums"
      else
        echo "$enc $t totals: DIFFER from the independent sums"
      fi
    done
  } | tee -a "$out/csvsum-extra.txt"
done

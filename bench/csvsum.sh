#!/usr/bin/env bash
# csvsum figures, side by side in one run: the sum of 판매금액 per day over a
# 5,000,000-row sales export (BOM, CRLF, Korean headers, quoted thousands
# separators, dates in four forms) in UTF-8, in CP949, and zipped (the UTF-8
# file as the one entry of a zip, as Ridi's daily download comes) —
#   runner csvsum  vs  DuckDB (@duckdb/node-api, 2 threads)  vs  Miller (mlr -S).
# DuckDB and Miller cannot read CP949 or a zip, so they get those through
# iconv or unzip -p (timed). Targets: faster than DuckDB on every file, ≥ 20×
# Miller, both cores used, peak RSS < 100 MiB whatever the file's size (a
# zip's entry is streamed like a plain file). Every tool's totals are checked
# against the generator's independent integer sums. Peak RSS of runner and
# Miller is recorded; BEFORE=/path/to/an/older/runner also records that
# binary's peak RSS and totals on the same files. Results go to
# bench/results/csvsum-*.
source "$(dirname "$0")/lib.sh"
need hyperfine mlr node npm iconv zip unzip "apt-get install hyperfine miller nodejs npm zip unzip"
rows=${ROWS:-5000000}
go build -o "$work/runner" ./cmd/runner
go run ./bench/gensales -dir "$work" -rows "$rows"
(cd "$work" && zip -q -j sales-zip.zip sales-utf8.csv) # the zip is not timed
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
mlrsum="mlr -S --icsv --ocsv put -f bench/csvsum.mlr then stats1 -a sum -f 판매금액 -g date then sort -f date"
for enc in utf8 cp949 zip; do
  case $enc in
  utf8)
    src="$work/sales-utf8.csv"
    duck="node $work/duckdb-sum.mjs $src $work/duck-$enc.csv"
    mlr="$mlrsum $src > $work/mlr-$enc.csv" ;;
  cp949)
    src="$work/sales-cp949.csv"
    duck="iconv -f CP949 -t UTF-8 $src > $work/conv.csv && node $work/duckdb-sum.mjs $work/conv.csv $work/duck-$enc.csv"
    mlr="iconv -f CP949 -t UTF-8 $src | $mlrsum > $work/mlr-$enc.csv" ;;
  zip)
    src="$work/sales-zip.zip"
    duck="unzip -p $src > $work/conv.csv && node $work/duckdb-sum.mjs $work/conv.csv $work/duck-$enc.csv"
    mlr="unzip -p $src | $mlrsum > $work/mlr-$enc.csv" ;;
  esac
  echo "== $enc: $(du -h "$src" | cut -f1)"
  hyperfine --warmup 1 --runs 5 --export-markdown "$out/csvsum-$enc.md" \
    -n "runner csvsum" "$runner --set src=$src --set dest=$work/runner-$enc.csv >/dev/null" \
    -n "duckdb (2 threads)" "$duck"
  # Miller once, its peak RSS taken in the same (timed) run.
  hyperfine --runs 1 --export-markdown "$out/csvsum-$enc-miller.md" -n "mlr -S" "/usr/bin/time -f %M -o $work/mlr-$enc.rss sh -c '$mlr'"
  {
    echo "$enc runner: $(/usr/bin/time -f '%M KiB peak RSS, %P CPU' $runner --set src=$src --set dest=$work/runner-$enc.csv 2>&1 >/dev/null | tail -1)"
    echo "$enc mlr: $(tail -1 "$work/mlr-$enc.rss") KiB peak RSS"
    if [ -n "${BEFORE:-}" ]; then
      echo "$enc runner before ($BEFORE): $(/usr/bin/time -f '%M KiB peak RSS, %P CPU, %e s' "$BEFORE" apply "$work/sum.yaml" --state-dir "$work/state-before" --set src=$src --set dest=$work/before-$enc.csv 2>&1 >/dev/null | tail -1)"
    fi
    tools="runner duck mlr"
    [ -n "${BEFORE:-}" ] && tools="$tools before"
    for t in $tools; do
      if diff -q <(tail -n +2 "$work/$t-$enc.csv" | tr -d '"') <(tail -n +2 "$work/expected.csv") >/dev/null; then
        echo "$enc $t totals: match the independent sums"
      else
        echo "$enc $t totals: DIFFER from the independent sums"
      fi
    done
  } | tee -a "$out/csvsum-extra.txt"
done

#!/usr/bin/env bash
# zip figures, side by side in one run: runner's zip task vs Info-ZIP
# `zip -r -6` on (1) the example corpus scaled to 10 projects × 300
# episodes and (2) a 1 GiB mixed folder. Target: ≥ 1.8× faster on 2 cores,
# output no more than 2% larger than zip's. Results go to bench/results/.
source "$(dirname "$0")/lib.sh"
need hyperfine zip "apt-get install hyperfine zip"
go build -o "$work/runner" ./cmd/runner
go run ./bench/gencorpus -kind episodes -dir "$work/episodes"
go run ./bench/gencorpus -kind mixed -mib 1024 -dir "$work/mixed"
cat > "$work/zip.yaml" <<'YAML'
version: 1
vars: {src: "", dest: ""}
tasks:
  pack:
    uses: zip
    with: {src: "${{ vars.src }}", dest: "${{ vars.dest }}", level: 6}
YAML
: > "$out/zip-sizes.txt"
for corpus in episodes mixed; do
  src="$work/$corpus"
  echo "== $corpus: $(du -sh "$src" | cut -f1), $(find "$src" -type f | wc -l) files"
  hyperfine --warmup 1 --runs 5 --export-markdown "$out/zip-$corpus.md" \
    --prepare "rm -f $work/r.zip $work/z.zip" \
    -n "runner zip" "$work/runner apply $work/zip.yaml --set src=$src --set dest=$work/r.zip --state-dir $work/state >/dev/null" \
    -n "zip -r -6" "cd $src && zip -r -6 -q $work/z.zip ."
  rm -f "$work/r.zip" "$work/z.zip"
  "$work/runner" apply "$work/zip.yaml" --set "src=$src" --set "dest=$work/r.zip" --state-dir "$work/state" >/dev/null
  (cd "$src" && zip -r -6 -q "$work/z.zip" .)
  r=$(stat -c %s "$work/r.zip"); z=$(stat -c %s "$work/z.zip")
  echo "$corpus: runner $r bytes, zip $z bytes, runner/zip = $(awk "BEGIN{printf \"%.4f\", $r/$z}")" | tee -a "$out/zip-sizes.txt"
  unzip -tq "$work/r.zip" >/dev/null
done

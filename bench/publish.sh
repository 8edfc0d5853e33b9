#!/usr/bin/env bash
# Publishing figures, side by side in one run, on a seeded 300-episode book
# (~5,700 characters each, a 1600×2560 JPEG cover):
#   EPUB: runner md2epub vs `pandoc --toc --epub-cover-image …` (target ≥ 25×
#         faster, runner's peak RSS < 64 MiB, epubcheck 0 errors / 0 warnings
#         on both);
#   PDF:  runner md2pdf vs Chromium's --print-to-pdf of pandoc's standalone
#         HTML (target ≥ 15× faster), and pandoc → WeasyPrint when installed;
#         peak RSS of runner, pandoc (making the HTML) and Chromium, and of
#         an older runner given as BEFORE=/path/to/runner (issue 11: memory
#         that grows with the book). EPISODES=3000 sets a 3,000-episode book.
# Results go to bench/results/publish-*.
source "$(dirname "$0")/lib.sh"
need hyperfine pandoc chromium java "apt-get install hyperfine pandoc chromium default-jre epubcheck"
episodes=${EPISODES:-300}
go build -o "$work/runner" ./cmd/runner
go run ./bench/genbook -dir "$work/book" -episodes "$episodes" -chars 5700 -cover
book=$work/book
files=$(cd "$book/episodes" && ls *.md | sort -V | sed "s|^|$book/episodes/|" | tr '\n' ' ')
echo "== book: $episodes episodes, $(cat $book/episodes/*.md | wc -m) characters, $(du -sh "$book/episodes" | cut -f1)"
cat > "$work/publish.yaml" <<'YAML'
version: 1
vars: {src: "", dest: ""}
tasks:
  epub:
    uses: md2epub
    if: vars.dest endsWith ".epub"
    with: {src: "${{ vars.src }}", dest: "${{ vars.dest }}"}
  pdf:
    uses: md2pdf
    if: vars.dest endsWith ".pdf"
    with: {src: "${{ vars.src }}", dest: "${{ vars.dest }}"}
YAML
run_runner() { "$work/runner" apply "$work/publish.yaml" --set "src=$book/episodes" --set "dest=$1" --state-dir "$work/state" >/dev/null; }
pandoc_epub="pandoc --toc --epub-cover-image $book/art/cover.jpg -M title=쓰이지_않은_책들의_서고 -M author=한서윤 -M lang=ko $files -o $work/pandoc.epub"

echo "== EPUB"
hyperfine --warmup 1 --runs 5 --export-markdown "$out/publish-epub.md" \
  -n "runner md2epub" "$work/runner apply $work/publish.yaml --set src=$book/episodes --set dest=$work/runner.epub --state-dir $work/state >/dev/null" \
  -n "pandoc --toc --epub-cover-image" "$pandoc_epub"
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
{
  echo "runner md2epub peak RSS: $(rss "$work/runner" apply "$work/publish.yaml" --set "src=$book/episodes" --set "dest=$work/runner.epub" --state-dir "$work/state") KiB"
  echo "pandoc peak RSS: $(rss $pandoc_epub) KiB"
  for f in runner pandoc; do
    echo "epubcheck $f.epub: $(java -jar /usr/share/java/epubcheck.jar "$work/$f.epub" 2>&1 | grep '^Messages')"
  done
  echo "sizes: runner.epub $(stat -c %s "$work/runner.epub") bytes, pandoc.epub $(stat -c %s "$work/pandoc.epub") bytes"
} | tee "$out/publish-epub-extra.txt"

echo "== PDF"
pandoc_html_rss=$(rss pandoc --toc -s -M title=쓰이지_않은_책들의_서고 -M lang=ko $files -o "$work/book.html")
chrome="chromium --headless --no-sandbox --disable-gpu --no-pdf-header-footer --print-to-pdf=$work/chromium.pdf $work/book.html"
hyperfine --runs 1 --export-markdown "$out/publish-pdf.md" \
  -n "runner md2pdf" "$work/runner apply $work/publish.yaml --set src=$book/episodes --set dest=$work/runner.pdf --state-dir $work/state >/dev/null" \
  -n "chromium --print-to-pdf (pandoc HTML)" "$chrome 2>/dev/null"
hyperfine --warmup 1 --runs 5 --export-markdown "$out/publish-pdf-runner.md" \
  -n "runner md2pdf" "$work/runner apply $work/publish.yaml --set src=$book/episodes --set dest=$work/runner.pdf --state-dir $work/state >/dev/null"
{
  echo "runner md2pdf peak RSS: $(rss "$work/runner" apply "$work/publish.yaml" --set "src=$book/episodes" --set "dest=$work/runner.pdf" --state-dir "$work/state") KiB"
  if [ -n "${BEFORE:-}" ]; then
    echo "runner md2pdf before ($BEFORE): $(/usr/bin/time -f '%e s, %M KiB peak RSS' "$BEFORE" apply "$work/publish.yaml" --set "src=$book/episodes" --set "dest=$work/before.pdf" --state-dir "$work/state-before" 2>&1 >/dev/null | tail -1)"
  fi
  echo "pandoc --toc -s (the HTML) peak RSS: $pandoc_html_rss KiB"
  echo "chromium --print-to-pdf peak RSS: $(rss $chrome) KiB"
  echo "pages: runner $(pdfinfo "$work/runner.pdf" | awk '/^Pages/{print $2}'), chromium $(pdfinfo "$work/chromium.pdf" | awk '/^Pages/{print $2}')"
  if command -v weasyprint >/dev/null; then
    start=$(date +%s.%N)
    weasyprint "$work/book.html" "$work/weasy.pdf" 2>/dev/null
    echo "pandoc HTML → weasyprint: $(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $start}") s, $(pdfinfo "$work/weasy.pdf" | awk '/^Pages/{print $2}') pages"
  else
    echo "weasyprint not installed: not measured"
  fi
} | tee "$out/publish-pdf-extra.txt"

#!/usr/bin/env bash
# Reproducible release builds, cold: clone HEAD into two folders at
# different paths, run recipes/release-runner.yaml's build steps (--only
# checksums: changelog, commit, builds, archives, SHA256SUMS; no tag, no
# push, no token) in each with its own empty GOCACHE, and compare the
# archives and SHA256SUMS byte for byte. Unlike the release test, which
# shares one GOCACHE, nothing compiled is shared here: every package is
# compiled twice. Platforms: PLATFORMS (default linux/amd64,windows/arm64:
# the tar.gz path and the zip path).
# Prints each build's time and "identical" or the files that differ; the
# result goes to bench/results/reproducible-build.txt.
source "$(dirname "$0")/lib.sh"
need git gzip "apt-get install git gzip"
tar --version | grep -q 'GNU tar' || { echo "GNU tar needed" >&2; exit 1; }
platforms=${PLATFORMS:-linux/amd64,windows/arm64}
head=$(git rev-parse HEAD)
go build -o "$work/runner" ./cmd/runner
export GIT_AUTHOR_NAME="Bench" GIT_AUTHOR_EMAIL=bench@bench.invalid GIT_AUTHOR_DATE=2026-12-03T12:00:00Z
export GIT_COMMITTER_NAME="Bench" GIT_COMMITTER_EMAIL=bench@bench.invalid GIT_COMMITTER_DATE=2026-12-03T12:00:00Z
for side in one two/deeper; do
  dir="$work/$side/runner"
  git init -q "$dir"
  git -C "$dir" fetch -q "$PWD" "$head"
  git -C "$dir" checkout -q -B main "$head"
  # The recipe requires an Added section under [Unreleased]: right after a
  # release there is none, so give it one (the same commit on both sides).
  if ! awk '/^## \[Unreleased\]/{u=1;next} /^## \[/{u=0} u&&/^### Added/{f=1} END{exit !f}' "$dir/CHANGELOG.md"; then
    awk '{print} /^## \[Unreleased\]/{print "\n### Added\n\n- A bench build."}' "$dir/CHANGELOG.md" > "$dir/CHANGELOG.md.new"
    mv "$dir/CHANGELOG.md.new" "$dir/CHANGELOG.md"
    git -C "$dir" commit -qam "bench: an Added entry"
  fi
  mkdir -p "$work/cache-${side%%/*}"
  start=$(date +%s.%N)
  (cd "$dir" && GOCACHE="$work/cache-${side%%/*}" "$work/runner" apply recipes/release-runner.yaml \
     --set version=99.0.0-bench --set date=2026-12-03 --set "platforms=$platforms" --only checksums >"$work/${side%%/*}.log" 2>&1) \
    || { cat "$work/${side%%/*}.log"; exit 1; }
  echo "$side: built $platforms with an empty GOCACHE in $(awk "BEGIN{printf \"%.0f\", $(date +%s.%N) - $start}") s"
done | tee "$out/reproducible-build.txt"
a="$work/one/runner/build/release" b="$work/two/deeper/runner/build/release"
(cd "$a" && sha256sum -c --quiet SHA256SUMS)
differ=0
for f in "$a"/SHA256SUMS "$a"/runner_*; do
  name=$(basename "$f")
  cmp -s "$f" "$b/$name" || { echo "differs: $name"; differ=1; }
done
if [ "$differ" = 0 ]; then
  echo "identical: $(cd "$a" && ls SHA256SUMS runner_* | tr '\n' ' ')" | tee -a "$out/reproducible-build.txt"
  cat "$a/SHA256SUMS" | tee -a "$out/reproducible-build.txt"
fi
exit "$differ"

# Sourced by every bench script: strict mode, the repository root as the
# working directory, $out for results, a $work folder removed on exit, and
# need() to stop early with an install hint when a tool is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=bench/results
mkdir -p "$out"
work=$(mktemp -d)
# cleanup holds commands run on exit, before $work is removed.
cleanup=()
on_exit() {
  local c
  for c in "${cleanup[@]}"; do eval "$c" || true; done
  rm -rf "$work"
}
trap on_exit EXIT
# need TOOL... "HINT": every TOOL must be on PATH, else print HINT and stop.
need() {
  local hint=${*: -1} tool
  for tool in "${@:1:$#-1}"; do
    command -v "$tool" >/dev/null || { echo "install $tool: $hint" >&2; exit 1; }
  done
}

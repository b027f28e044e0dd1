#!/usr/bin/env bash
# The offline bundle for real: build dist/margin-bench-linux-x64.tar.xz (`npm run bundle`), unpack it
# into an empty temp folder and run it with a clean environment (env -i: only HOME and a PATH of a
# folder holding sh, dirname and readlink, so that no node, npm or node_modules of this checkout or
# this host can be found). There it must
#   - find no node on PATH (so what runs is the bundle's own);
#   - pass `gpu-check --backend wasm` (sized down) against the float64 engine;
#   - run configs/smoke.yaml (copied in) with every run ok, write one CSV and one summary per run,
#     each CSV byte for byte the one this checkout's CLI writes for it on the same Node;
#   - report the folder complete (`status`) and draw its figures (the native resvg addon, the fonts).
# Usage: scripts/bundle-e2e.sh [ARCHIVE]   (an ARCHIVE already built skips the build; exit 0 = all passed)
# Needs: a built dist/ (npm ci builds it), libvulkan1 (the loader the bundle carries), the npm
# registry or a warm npm cache for the build.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
started=$(date +%s)
fail() { echo "bundle-e2e: FAILED: $*"; exit 1; }

archive=${1:-}
if [ -z "$archive" ]; then
  npm run --silent bundle
  archive=$repo/dist/margin-bench-linux-x64.tar.xz
fi
[ -f "$archive" ] || fail "no archive at $archive"
built=$(date +%s)

work=$(mktemp -d /tmp/bundle-e2e.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir "$work/unpacked" "$work/home" "$work/bin" "$work/job"
tar -xJf "$archive" -C "$work/unpacked"
mb=$work/unpacked/margin-bench-linux-x64/margin-bench
[ -x "$mb" ] || fail "the archive has no executable margin-bench-linux-x64/margin-bench"
# What the launcher itself calls; nothing else is on PATH.
for tool in sh dirname readlink; do ln -s "$(command -v "$tool")" "$work/bin/$tool"; done
cp configs/smoke.yaml "$work/job/smoke.yaml"
clean() { (cd "$work/job" && env -i HOME="$work/home" PATH="$work/bin" "$@"); }

clean sh -c 'command -v node' >/dev/null 2>&1 && fail "a node is on the clean PATH"
echo "bundle-e2e: $(clean "$mb" --version) from $(basename "$archive") ($(du -m "$archive" | cut -f1) MiB), no node on PATH"

clean "$mb" gpu-check --backend wasm --digits 500 --width 64 --steps 2 --check-steps 50 --no-lockstep \
  >"$work/gpu-check.txt" 2>&1 || { tail -20 "$work/gpu-check.txt"; fail "gpu-check --backend wasm exited non-zero"; }
grep -q 'all within' "$work/gpu-check.txt" || fail "gpu-check printed no passing check"
echo "bundle-e2e: gpu-check --backend wasm passed ($(grep -o 'Node [0-9.]*' "$work/gpu-check.txt" | head -1))"

clean "$mb" run smoke.yaml --out results/smoke --no-progress >"$work/run.txt" 2>&1 || { tail -20 "$work/run.txt"; fail "run smoke.yaml exited non-zero"; }
out=$work/job/results/smoke
csvs=$(find "$out" -maxdepth 1 -name '*.csv' | wc -l)
jsons=$(find "$out" -maxdepth 1 -name '*.json' ! -name 'sweep.json' ! -name 'config*.json' | wc -l)
[ "$csvs" = 24 ] || fail "expected 24 run CSVs (2 activations × 6 optimizers × 2 betas), found $csvs"
clean "$mb" status results/smoke >"$work/status.txt" 2>&1 || { cat "$work/status.txt"; fail "status says the smoke folder is not complete"; }
clean "$mb" figures results/smoke >"$work/figures.txt" 2>&1 || { tail -20 "$work/figures.txt"; fail "figures exited non-zero"; }
pngs=$(find "$out/figures" -name '*.png' | wc -l)
[ "$pngs" -gt 0 ] || fail "figures wrote no PNG"

# The same config through this checkout's CLI on the bundle's node (float64 results differ between
# Node lines in the last digit, e.g. Math.exp): the CSVs must be the same bytes.
"$work/unpacked/margin-bench-linux-x64/node/bin/node" bin/margin-bench.js run "$work/job/smoke.yaml" --out "$work/ref" --no-progress \
  >/dev/null 2>&1 || fail "the reference run failed"
for f in "$work"/ref/*.csv; do
  cmp -s "$f" "$out/$(basename "$f")" || fail "$(basename "$f") differs from this checkout's run"
done
echo "bundle-e2e: smoke.yaml: $csvs CSVs and $jsons JSON files, every CSV identical to this checkout's on the same Node; status complete; $pngs PNG figures"
now=$(date +%s)
echo "bundle-e2e: passed (build $((built - started)) s, checks $((now - built)) s)"

#!/bin/sh
# Rebuilds the built-in model's CPU level family and its report from the
# trained weights (models/fmnist-mbv3.pt, from `dofa train`):
#   per-op latency tables -> search -> width-only search -> both families
#   timed side by side -> report,
# and re-measures the published ofa-mbv3-w12 table on this CPU.
# usage: luts/rebuild.sh [BUILD_DIR]   (default build)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
dofa="${1:-$root/build}/lib/tools/dofa"
luts="$root/luts"
export OPENBLAS_NUM_THREADS=1 DOFA_DATA_PATH="$root"
"$dofa" profile --spec fmnist-mbv3 --out "$luts/fmnist-mbv3-cpu-ops"
"$dofa" profile --check --spec fmnist-mbv3 --lut "$luts/fmnist-mbv3-cpu-ops" | tee "$luts/fmnist-mbv3-cpu-ops/check.txt"
"$dofa" search --spec fmnist-mbv3 --out "$luts/fmnist-mbv3-cpu.json"
"$dofa" search --spec fmnist-mbv3 --dims width --predictor "$luts/fmnist-mbv3-cpu.acc-predictor.pt" \
  --out "$luts/fmnist-mbv3-cpu-width.json"
# The two families timed side by side, so the report's ratios between them hold on a shared machine.
"$dofa" measure --rounds 15 --runs 50 --level-table "$luts/fmnist-mbv3-cpu.json,$luts/fmnist-mbv3-cpu-width.json"
"$dofa" measure --level-table "$luts/ofa-mbv3-w12-cpu.json"
# The GPU families (fmnist-mbv3-cuda.*, ofa-mbv3-w12-cuda.json) come from tests/gpu/run.sh on a GPU machine.
set --
[ -f "$luts/fmnist-mbv3-cuda.search.json" ] && set -- --gpu "$luts/fmnist-mbv3-cuda.search.json"
"$dofa" report --search "$luts/fmnist-mbv3-cpu.search.json" --width "$luts/fmnist-mbv3-cpu-width.search.json" \
  --train "$root/models/fmnist-mbv3.pt.train.json" "$@" --out "$luts/REPORT.md" --plots "$luts/plots"

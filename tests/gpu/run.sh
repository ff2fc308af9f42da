#!/bin/bash
# The GPU check: on a machine with an NVIDIA GPU, nvcc and python3 torch (a
# CUDA LibTorch), but possibly no package registry, GStreamer, json-glib or
# OpenCV development files. Builds lib/dofa, the dofa command and the GPU tests
# against that torch's LibTorch (without OpenCV; the element too when
# GStreamer is there), runs the tests and the GPU benchmarks, writes the GPU
# level tables and prints one table of figures.
#
#   tests/gpu/fetch-debs.sh     # first, on a Debian 12 build machine (GStreamer included)
#   tests/gpu/run.sh [OUT_DIR]  # then here; OUT_DIR defaults to gpu-out/
#
# The Debian packages of tests/gpu/carry/debs are unpacked into a private
# prefix (DOFA_GPU_PREFIX, default /tmp/dofa-gpu-prefix), never into /.
# DOFA_TORCH_DIR overrides the LibTorch ("debian": Debian's libtorch-dev, to
# rehearse the script on a build machine).
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mkdir -p "${1:-$root/gpu-out}" && cd "${1:-$root/gpu-out}" && pwd)
prefix=${DOFA_GPU_PREFIX:-/tmp/dofa-gpu-prefix}
build=${DOFA_GPU_BUILD:-/tmp/dofa-gpu-build}
carry=$root/tests/gpu/carry
t_start=$(date +%s)
failed=()
step() {  # step NAME COMMAND...: runs, logs to $out/NAME.log, records a failure
  local name=$1
  shift
  echo "== $name: $*"
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  tail -n 40 "$out/$name.log"
  [ $rc -eq 0 ] || { failed+=("$name (exit $rc)"); echo "== $name FAILED (exit $rc)"; }
  return $rc
}

# 1. Private prefix with the carried packages; their pkg-config files point
#    into it, without the private requirements that only static links need.
if ls "$carry"/debs/*.deb >/dev/null 2>&1; then
  rm -rf "$prefix" && mkdir -p "$prefix"
  for d in "$carry"/debs/*.deb; do dpkg-deb -x "$d" "$prefix"; done
  pc=$prefix/usr/lib/x86_64-linux-gnu/pkgconfig
  sed -i -e "s|^prefix=/usr|prefix=$prefix/usr|" -e '/^Requires.private/d' "$pc"/*.pc
  export PKG_CONFIG_LIBDIR=$pc  # these packages only: the same build on every machine
  export LD_LIBRARY_PATH=$prefix/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export GST_PLUGIN_SYSTEM_PATH_1_0=$prefix/usr/lib/x86_64-linux-gnu/gstreamer-1.0
  export GST_PLUGIN_SCANNER_1_0=$prefix/usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner
  export PATH=$prefix/usr/bin:$PATH  # gst-launch-1.0, gst-inspect-1.0
else
  echo "note: no tests/gpu/carry/debs (run tests/gpu/fetch-debs.sh on a build machine); using the system's packages"
fi
[ -d "$carry/fashion-mnist" ] && export DOFA_FMNIST_DIR=$carry/fashion-mnist

# 2. Configure and build against the CUDA LibTorch.
torch=${DOFA_TORCH_DIR:-$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')}
[ "$torch" = debian ] && torch=
export PATH=$PATH:/usr/local/cuda/bin
# Newer LibTorch headers may want a newer C++ than the project's C++17.
std=c++17
if [ -n "$torch" ]; then
  echo '#include <ATen/Tensor.h>' >/tmp/dofa-std-probe.cpp
  g++ -std=c++17 -fsyntax-only -I"$torch/include" -I"$torch/include/torch/csrc/api/include" /tmp/dofa-std-probe.cpp \
    >/dev/null 2>&1 || std=c++20
fi
echo "C++ standard: $std"
rm -rf "$build"
step configure meson setup "$build" "$root" -Dbuildtype=release -Dcpp_std=$std -Dtorch_dir="$torch" -Dcuda=enabled \
  -Dopencv=disabled -Dgstreamer=auto || { echo "configure failed"; exit 1; }
targets="lib/tools/dofa tests/gpu/test_gpu"
# The element and its tests where GStreamer is (carried or installed).
grep -qiE "GStreamer plugin and pipelines *: *true" "$out/configure.log" &&
  targets="$targets gst/libgstdofa.so tests/test_dofaclassify"
step build ninja -C "$build" -k 0 $targets || { echo "build failed"; exit 1; }
t_built=$(date +%s)
dofa=$build/lib/tools/dofa
export DOFA_DATA_PATH=$root DOFA_FIXTURES=$root/tests/fixtures DOFA_BUILD_DIR=$build OPENBLAS_NUM_THREADS=1

# 3. Tests and benchmarks.
step info "$dofa" info --system
step test_gpu "$build/tests/gpu/test_gpu"
# The element's tests: with CUDA here, device cpu -> cuda -> cpu while playing.
[ -f "$build/tests/test_dofaclassify" ] && step test_element meson test -C "$build" --no-rebuild --print-errorlogs dofaclassify
# The device=cuda lines of pipelines/README.md, as a user runs them.
[ -f "$build/gst/libgstdofa.so" ] && command -v gst-launch-1.0 >/dev/null &&
  step pipelines_cuda env GST_PLUGIN_PATH="$build/gst" python3 "$root/tests/pipelines_test.py" --cuda \
    "$root/pipelines/README.md"
step levels_fmnist "$dofa" bench levels --device cuda --runs 30 --json
step levels_w12 "$dofa" bench levels --spec ofa-mbv3-w12 --device cuda --runs 10 --json
step switch "$dofa" bench switch --device cuda --switches 20000 --json
step switch_w12 "$dofa" bench switch --spec ofa-mbv3-w12 --resolution 160 --device cuda --switches 5000 --json
step element "$dofa" bench element --device cuda --runs 30 --frames 300 --json
step measure_w12 "$dofa" measure --level-table "$root/luts/ofa-mbv3-w12-cpu.json" --device cuda --runs 50 \
  --out "$out/ofa-mbv3-w12-cuda.json"
step search_fmnist "$dofa" search --device cuda --pool "$root/luts/fmnist-mbv3-cpu.pool.json" \
  --out "$out/fmnist-mbv3-cuda.json" --eval-threads 8
t_end=$(date +%s)

# 4. The table.
python3 - "$out" "$((t_built - t_start))" "$((t_end - t_start))" "${#failed[@]}" <<'EOF'
import json, os, sys
out, build_s, total_s, nfailed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load(name):
    try:
        with open(os.path.join(out, name + ".log")) as f:
            text = f.read()
        return json.loads(text[text.index("{"):])
    except Exception:
        return None
rows = []
lv = load("levels_fmnist") or {}
gpu = ((lv.get("system") or {}).get("gpu")) or "?"
print("\n# GPU check on %s (build %d s, everything %d s)\n" % (gpu, build_s, total_s))
print("| figure | CPU (1 thread) | GPU | CPU / GPU |")
print("|---|---|---|---|")
for name, data in (("fmnist-mbv3", lv), ("ofa-mbv3-w12", load("levels_w12") or {})):
    for l in data.get("levels", []):
        if "cuda" not in l:
            continue
        print("| %s %s r%s latency (median ms) | %.3f | %.3f | %.1fx |" % (
            name, l["name"], l["arch"].split("-")[0][1:], l["materialised"]["median_ms"], l["cuda"]["median_ms"],
            l["cpu_over_cuda"]))
for key, label in (("switch", "switch fmnist"), ("switch_w12", "switch w12 r160")):
    sw = load(key)
    if sw:
        print("| %s: switch p50 / p99 (us); first frame / steady p99 | | %.2f / %.2f; %.2f | |" % (
            label, sw["switch_p50_us"], sw["switch_p99_us"], sw["first_frame_ratio_p99"]))
el = load("element")
if el:
    for r in el["preprocess"]:
        if r["format"] in ("NV12", "RGBx", "GRAY8") and r["width"] == 1920:
            print("| preprocess 1080p %s -> %s (ms; GPU: upload and kernels) | %.3f | %.3f | %.1fx |" % (
                r["format"], r["to"], r["median_ms"], r["gpu_median_ms"], r["median_ms"] / r["gpu_median_ms"]))
    print("| preprocess: largest GPU - CPU difference (levels of 255) | | %.2f | |" % el["gpu_max_diff"])
    for ov in el["overhead"]:
        print("| element fps, %s, level %d (element / engine) | | %.1f / %.1f | |" % (
            ov["input"], ov["level"], ov["element_fps"], ov["engine_fps"]))
    if not el["overhead"]:
        print("| element fps | not measured (%s) | | |" % el.get("overhead_skipped", "?"))
print("\nfailed steps: %d" % nfailed)
EOF
for f in "${failed[@]}"; do echo "FAILED: $f"; done
[ ${#failed[@]} -eq 0 ]

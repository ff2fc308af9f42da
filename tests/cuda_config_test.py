#!/usr/bin/env python3
"""The three values of -Dcuda, configured for real in scratch build folders.

disabled: the CUDA sources are skipped and say so. auto and enabled with no
nvcc (a PATH without one, -Dcudatoolkit pointing nowhere): auto skips with
'CUDA sources: skipped (no nvcc)', enabled stops with an error naming nvcc.
Where nvcc exists (on PATH or in /usr/local/cuda), auto and enabled compile
the sources for explicit targets: sm_75 and sm_90, never compute_50.
"""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = sys.argv[1]
failures = []


def setup(*opts, path=None):
    build = tempfile.mkdtemp(prefix="dofa-cuda-config-")
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    p = subprocess.run(["meson", "setup", build, SRC, "-Dtests=false", "-Dgstreamer=disabled", *opts],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    ninja = ""
    if os.path.exists(os.path.join(build, "build.ninja")):
        with open(os.path.join(build, "build.ninja")) as f:
            ninja = f.read()
    shutil.rmtree(build, ignore_errors=True)
    return p.returncode, p.stdout, ninja


def check(cond, what, out=""):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
        print(out[-3000:])


rc, out, ninja = setup("-Dcuda=disabled")
check(rc == 0 and "CUDA sources: skipped (-Dcuda=disabled)" in out and "gpu_runtime.cu.o" not in ninja,
      "-Dcuda=disabled: skipped, nothing compiled by nvcc", out)

bare_path = "/usr/bin:/bin"
if shutil.which("nvcc", path=bare_path):
    print("note: nvcc is in /usr/bin; the no-nvcc cases cannot be set up here")
else:
    rc, out, ninja = setup("-Dcuda=auto", "-Dcudatoolkit=/nonexistent", path=bare_path)
    check(rc == 0 and "CUDA sources: skipped (no nvcc)" in out and "gpu_runtime.cu.o" not in ninja,
          "-Dcuda=auto without nvcc: configures, 'CUDA sources: skipped (no nvcc)'", out)
    rc, out, ninja = setup("-Dcuda=enabled", "-Dcudatoolkit=/nonexistent", path=bare_path)
    check(rc != 0 and "nvcc" in out and "not found" in out.lower(),
          "-Dcuda=enabled without nvcc: stops with an error naming nvcc", out)

if shutil.which("nvcc") or os.path.exists("/usr/local/cuda/bin/nvcc"):
    for value in ("auto", "enabled"):
        rc, out, ninja = setup("-Dcuda=" + value)
        check(rc == 0 and "CUDA sources: compiled" in out and "gpu_runtime.cu.o" in ninja
              and "gpu_preprocess.cu.o" in ninja,
              "-Dcuda=%s with nvcc: both CUDA sources compiled" % value, out)
        check("code=sm_75" in ninja and "code=sm_90" in ninja and "compute_50" not in ninja,
              "-Dcuda=%s: explicit -gencode targets sm_75 .. sm_90, no compute_50" % value, ninja[:0])
else:
    print("note: no nvcc on this machine; the compiled cases are not run")

sys.exit(1 if failures else 0)

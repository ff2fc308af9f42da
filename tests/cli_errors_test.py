#!/usr/bin/python3
"""Malformed and missing command-line input: each `dofa` call must exit non-zero
with an error on stderr that names what was wrong, and write nothing.

usage: /usr/bin/python3 tests/cli_errors_test.py PATH_TO_dofa
"""

import os
import subprocess
import sys
import tempfile

import torch


def main():
    dofa = sys.argv[1]
    failures = []
    with tempfile.TemporaryDirectory(prefix="dofa-cli-") as tmp:
        wrong = os.path.join(tmp, "wrong.pt")
        torch.save(torch.zeros(1, 3, 32, 32), wrong)  # arch min of w1.2 wants [N, 3, 160, 160]
        out = os.path.join(tmp, "out.pt")
        root = os.environ.get("DOFA_DATA_PATH", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        lut = os.path.join(tmp, "lut")
        os.makedirs(lut)
        with open(os.path.join(lut, "20_lookup_table.json"), "w") as f:
            f.write('{"Conv-input:20x20x1-output:20x20x16": {"count": 1, "mean": 0.1, "std": 0}}')
        badpool = os.path.join(tmp, "pool.json")
        with open(badpool, "w") as f:
            f.write('{"schema": 1, "model": "tiny", "weights_sha256": "", "bn_file": "x", "candidates": {}}')
        cases = [
            (["load", "--threads", "0", "--seconds", "1"], ["--threads 0", ">= 1"]),
            (["load", "--threads", "1", "--cpus", "99", "--seconds", "1"], ["CPU 99"]),
            (["load", "--threads", "1", "--seconds", "0"], ["--seconds 0"]),
            (["flops", "--spec", "ofa-mbv3-w12", "--arch", "r1-d1"], ["r1-d1", "expected r<res>"]),
            (["flops", "--spec", "ofa-mbv3-w12", "--arch", "random:-1"], ["seed '-1'"]),
            (["flops", "--bogus"], ["unknown option --bogus"]),
            (["flops", "--spec", "no-such-model"], ["no-such-model", "not found"]),
            (["infer", "--spec", "ofa-mbv3-w12", "--weights", "random:1", "--arch", "min", "--output", out],
             ["--input is required"]),
            (["infer", "--spec", "ofa-mbv3-w12", "--weights", "random:1", "--arch", "min", "--input", wrong,
              "--output", out], [wrong, "[1, 3, 32, 32]", "160"]),
            (["infer", "--spec", "ofa-mbv3-w12", "--weights", os.path.join(tmp, "none.pt"), "--arch", "min",
              "--input", wrong, "--output", out], ["none.pt"]),
            (["export", "--spec", "ofa-mbv3-w12", "--weights", "random:1", "--arch", "min"], ["--out is required"]),
            (["bench", "element", "--runs", "0"], ["--runs 0"]),
            (["bench", "element", "--rounds", "0"], ["--rounds 0"]),
            (["bench", "element", "--runs", "1", "--level", "99"], ["--level 99", "expected 0..5"]),
            (["bench", "nosuch"], ["unknown benchmark 'nosuch'"]),
            (["bench", "rtm", "--frames", "10"], ["--frames >= 100"]),
            (["bench", "rtm", "--cpu", "99"], ["--cpu 99", "CPU 99"]),
            (["bench", "element", "--cpu", "99"], ["--cpu 99", "CPU 99"]),
            (["bench", "element", "--device", "tpu"], ["--device tpu", "expected cpu or cuda"]),
            (["bench", "levels", "--device", "tpu"], ["--device tpu", "expected cpu or cuda"]),
            (["measure", "--level-table", os.path.join(root, "luts", "ofa-mbv3-w12-cpu.json"), "--device", "tpu"],
             ["--device tpu", "expected cpu or cuda"]),
            (["search", "--device", "cuda"], ["--device cuda", "--pool"]),
            # The demo.
            (["demo", "--scenario", "colour"], ["--scenario colour", "all, target, load, group or fixed"]),
            (["demo", "--frames", "10"], ["--frames 10", "at least 60"]),
            (["demo", "--cpu", "99"], ["--cpu 99", "CPU 99"]),
            (["demo", "extra"], ["unexpected argument 'extra'"]),
            (["nosuch"], ["unknown command 'nosuch'"]),
            # Design-time commands.
            (["train", "--out", out, "--scale", "0"], ["--scale 0", "positive"]),
            (["train", "--out", out, "--data", "fmnist:nope"], ["fmnist:nope", "train, val or test"]),
            (["train", "--out", out, "--batch", "1"], ["--batch 1", "at least 2"]),
            (["eval", "--level-table", os.path.join(root, "luts", "ofa-mbv3-w12-cpu.json"), "--level", "9",
              "--data", "fmnist:test"], ["--level 9", "all or 0 to 5"]),
            (["eval", "--spec", "ofa-mbv3-w12", "--weights", "random:1", "--arch", "min", "--data", "fmnist:test"],
             ["10 classes", "1000"]),
            (["calibrate", "--level-table", os.path.join(root, "luts", "ofa-mbv3-w12-cpu.json"), "--weights",
              "random:1", "--data", "fmnist:train"], ["needs a weights file"]),
            (["calibrate", "--level-table", os.path.join(root, "luts", "fmnist-mbv3-cpu.json"), "--data",
              "fmnist:train", "--test", "fmnist:nosuch", "--out", os.path.join(tmp, "cal.json")],
             ["--test fmnist:nosuch", "expected train, val or test"]),
            (["search", "--dims", "colour"], ["colour", "width, depth, kernel or resolution"]),
            (["search", "--predictor-archs", "3"], ["--predictor-archs 3", "at least 10"]),
            (["search", "--lut", os.path.join(tmp, "nolut"), "--predictor-archs", "10"], ["nolut"]),
            (["search", "--lut", lut, "--pool", badpool, "--predictor-archs", "10"], ["model", "fmnist-mbv3"]),
            (["search", "--lut", lut, "--predictor", wrong], ["wrong.pt", "dict of name -> tensor"]),
            (["profile", "--check", "--lut", os.path.join(tmp, "nolut")], ["nolut"]),
            (["profile", "--resolutions", "21"], ["--resolutions: 21", "fmnist-mbv3"]),
            (["measure"], ["--level-table is required"]),
            (["measure", "--level-table", ","], ["--level-table", "one or more table paths"]),
            (["measure", "--level-table", os.path.join(root, "luts", "fmnist-mbv3-cpu.json") + "," +
              os.path.join(tmp, "nosuch.json")], ["nosuch.json"]),
            (["measure", "--level-table", "a.json,b.json", "--out", os.path.join(tmp, "m.json")],
             ["--out", "single --level-table"]),
            (["search", "--per-constraint", "0"], ["--per-constraint must be >= 1"]),
            (["measure", "--level-table", os.path.join(root, "luts", "fmnist-mbv3-cpu.json"), "--rounds", "0"],
             ["--runs and --rounds must be >= 1"]),
            (["report", "--search", badpool, "--width", badpool], ["candidates"]),
            (["report", "--search", os.path.join(root, "luts", "fmnist-mbv3-cpu.search.json"),
              "--width", os.path.join(root, "luts", "fmnist-mbv3-cpu-width.search.json"),
              "--gpu", "/nonexistent/gpu.search.json", "--out", os.path.join(tmp, "r.md"),
              "--plots", os.path.join(tmp, "plots")], ["/nonexistent/gpu.search.json", "cannot read"]),
        ]
        for args, fragments in cases:
            r = subprocess.run([dofa] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, timeout=120)
            lacking = [f for f in fragments if f not in r.stderr]
            if r.returncode == 0 or lacking:
                failures.append("dofa %s: exit %d, stderr lacks %s:\n%s" % (" ".join(args), r.returncode, lacking,
                                                                             r.stderr))
            else:
                print("dofa %s -> %s" % (" ".join(args), r.stderr.strip().splitlines()[-1]))
        if os.path.exists(out):
            failures.append("a refused infer wrote %s" % out)
        if os.path.exists(os.path.join(tmp, "cal.json")):
            failures.append("a refused calibrate wrote its table")
    for f in failures:
        print("FAIL: " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

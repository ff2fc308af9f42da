#!/usr/bin/python3
"""The design-time commands end to end, on real data, sized to take seconds:

  * Fashion-MNIST: `dofa train` (a smoke run of every progressive-shrinking
    phase on a few hundred images, then a resume that finds nothing to do),
    `dofa profile`, `dofa search` (predictor data, Algorithm 1 + evolution,
    Pareto front, level table, pool), `dofa eval` on a level;
  * `dofa calibrate` writes the statistics of the calibrate-mode forward:
    for a 20-image folder at the model's resolution (no resize, no
    augmentation) the first BN's mean and variance equal those computed here
    with python3-torch from the PNG files and the weights file;
  * the ImageNet path without ImageNet: import-ofa of a synthesised legacy
    w1.2 checkpoint, calibrate the published nets_6 table on a generated
    20-image ImageNet-layout folder, eval a level, a tiny width-only search.

usage: /usr/bin/python3 tests/design_time_test.py PATH_TO_dofa
"""

import json
import os
import subprocess
import sys
import tempfile

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DOFA_DATA_PATH", os.path.dirname(HERE)).split(":")[0]
FIXTURES = os.environ.get("DOFA_FIXTURES", os.path.join(HERE, "fixtures"))
failures = []


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


def run(cmd, expect_ok=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if expect_ok and r.returncode != 0:
        sys.exit("%s failed (%d):\n%s\n%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def tiny_spec(tmp):
    """The tiny test supernet without augmentation (scale 1, no flip): the
    training transform is then the plain resize, so calibration is reproducible."""
    with open(os.path.join(FIXTURES, "tiny-mbv3.json")) as f:
        s = json.load(f)
    s["name"] = "tiny-noaug"
    s["preprocess"]["train"] = {"scale": [1.0, 1.0], "flip": False}
    s["weights"] = "tiny.pt"
    path = os.path.join(tmp, "tiny-noaug.json")
    with open(path, "w") as f:
        json.dump(s, f)
    return path, s


def write_folder(tmp, name, classes, per_class, size, seed):
    g = torch.Generator().manual_seed(seed)
    root = os.path.join(tmp, name)
    import zlib, struct

    def png(path, img):  # img: uint8 [H, W, 3]
        h, w, _ = img.shape
        raw = b"".join(b"\x00" + bytes(img[y].flatten().tolist()) for y in range(h))
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
        with open(path, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                    chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    images = []
    for c in range(classes):
        d = os.path.join(root, "class%04d" % c)
        os.makedirs(d)
        for i in range(per_class):
            img = torch.randint(0, 256, (size, size, 3), generator=g, dtype=torch.uint8)
            png(os.path.join(d, "img%d.png" % i), img)
            images.append(img)
    return root, images


def check_fmnist_chain(dofa, tmp):
    spec_path, spec = tiny_spec(tmp)
    w = os.path.join(tmp, "tiny.pt")
    r = run([dofa, "train", "--spec", spec_path, "--out", w, "--limit", "256", "--batch", "32",
             "--scale", "0.05", "--val-images", "100", "--threads", "2"])
    log = json.load(open(w + ".train.json"))
    names = [p["name"] for p in log["phases"]]
    if names != ["full", "kernel", "depth-1", "depth-2", "expand-1", "expand-2"]:
        fail("train: phases %s" % names)
    if len(log["evals"]) != 12 or not all(0 <= e["top1_val"] <= 100 for e in log["evals"]):
        fail("train: phase-end evaluations %s" % log["evals"])
    if "phase expand-2 done" not in r.stderr:
        fail("train: no phase report:\n" + r.stderr[-500:])
    r = run([dofa, "train", "--spec", spec_path, "--out", w, "--limit", "256", "--batch", "32", "--scale", "0.05",
             "--val-images", "100"])
    if "resuming" not in r.stderr or "phase full:" in r.stderr:
        fail("train: a finished checkpoint should resume with nothing to do:\n" + r.stderr)
    r = run([dofa, "train", "--spec", spec_path, "--out", w, "--limit", "256", "--batch", "16"], expect_ok=False)
    if r.returncode == 0 or "batch 32" not in r.stderr or "--restart" not in r.stderr:
        fail("train: resuming with another batch size must be refused:\n" + r.stderr)
    print("train: 6 phases, resume and mismatch checks ok")

    lut = os.path.join(tmp, "lut")
    run([dofa, "profile", "--spec", spec_path, "--weights", w, "--out", lut, "--runs", "2", "--archs", "2"])
    for res in spec["elastic"]["resolutions"]:
        t = json.load(open(os.path.join(lut, "%d_lookup_table.json" % res)))
        if not any(k.startswith("expanded_conv-input:") for k in t) or not all(v["mean"] > 0 for v in t.values()):
            fail("profile: table %d malformed" % res)
    r = run([dofa, "profile", "--check", "--spec", spec_path, "--lut", lut, "--archs", "5", "--json"])
    chk = json.loads(r.stdout)
    if chk["archs"] != 5 or not chk["mean_abs_error_pct"] >= 0:
        fail("profile --check: %s" % r.stdout)

    table = os.path.join(tmp, "tiny-cpu.json")
    r = run([dofa, "search", "--spec", spec_path, "--weights", w, "--lut", lut, "--out", table,
             "--predictor-archs", "12", "--sweep", "2", "--levels", "3", "--val-images", "200", "--eval-threads", "2"])
    t = json.load(open(table))
    if not 2 <= len(t["levels"]) <= 3:
        fail("search: %d levels" % len(t["levels"]))
    lats = [l["latency_ms"]["mean"] for l in t["levels"]]
    vals = [l["top1_val"] for l in t["levels"]]
    if lats != sorted(lats) or vals != sorted(vals):
        fail("search: levels not ordered fastest to most accurate: %s %s" % (lats, vals))
    pool = json.load(open(os.path.join(tmp, "tiny-cpu.pool.json")))
    if len(pool["candidates"]) < 12:
        fail("search: pool has %d candidates" % len(pool["candidates"]))
    for f in ["tiny-cpu.bn.pt", "tiny-cpu.pool.bn.pt", "tiny-cpu.acc-predictor.pt", "tiny-cpu.search.json"]:
        if not os.path.exists(os.path.join(tmp, f)):
            fail("search: %s not written" % f)
    if "search took" not in r.stderr or "Kendall tau" not in r.stderr or "side by side" not in r.stderr:
        fail("search: no timing or predictor report:\n" + r.stderr[-800:])
    r = run([dofa, "eval", "--spec", spec_path, "--weights", w, "--level-table", table, "--level", "0",
             "--data", "fmnist:test", "--limit", "500", "--json"])
    ev = json.loads(r.stdout)
    if ev["images"] != 500 or not ev["ci95"][0] <= ev["top1"] <= ev["ci95"][1]:
        fail("eval: %s" % r.stdout)
    wt = os.path.join(tmp, "tiny-width.json")
    run([dofa, "search", "--spec", spec_path, "--weights", w, "--lut", lut, "--dims", "width", "--out", wt,
         "--predictor", os.path.join(tmp, "tiny-cpu.acc-predictor.pt"), "--sweep", "2", "--levels", "2",
         "--val-images", "200"])
    # Both families re-timed side by side; the report takes the levels' latencies from the tables.
    r = run([dofa, "measure", "--spec", spec_path, "--level-table", table + "," + wt, "--runs", "3", "--rounds", "2"])
    if r.stdout.count("wrote ") != 2:
        fail("measure: two tables should be written:\n" + r.stdout)
    remeasured = json.load(open(wt))["levels"][0]["latency_ms"]["mean"]
    report = os.path.join(tmp, "REPORT.md")
    run([dofa, "report", "--search", os.path.join(tmp, "tiny-cpu.search.json"), "--width",
         os.path.join(tmp, "tiny-width.search.json"), "--train", w + ".train.json", "--out", report,
         "--plots", os.path.join(tmp, "plots")])
    text = open(report).read()
    png = os.path.join(tmp, "plots", "tiny-noaug-cpu-top1-latency.png")
    if "## Floors" not in text or "paired-bootstrap" not in text or not open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n":
        fail("report: incomplete report or no PNG:\n" + text[-600:])
    if "measured side by side" not in text or "| %.3f |" % remeasured not in text:
        fail("report: the width-only family's latency should come from its re-measured table (%.3f):\n%s" %
             (remeasured, text[-1500:]))
    print("profile, search (%d levels, %d candidates), width-only search, eval, report: ok" %
          (len(t["levels"]), len(pool["candidates"])))
    return spec_path, spec, w, table


def check_calibrate_statistics(dofa, tmp, spec_path, spec, w, table):
    r0 = json.load(open(table))["levels"][0]["arch"]
    res = int(r0.split("-")[0][1:])
    folder, images = write_folder(tmp, "cal", 10, 2, res, 5)
    out = os.path.join(tmp, "cal.json")
    run([dofa, "calibrate", "--spec", spec_path, "--weights", w, "--level-table", table, "--data", folder,
         "--out", out, "--test", folder])
    t = json.load(open(out))
    import hashlib
    if t["provenance"]["weights_sha256"] != hashlib.sha256(open(w, "rb").read()).hexdigest():
        fail("calibrate: weights hash not recorded")
    bn = torch.load(os.path.join(tmp, t["bn_file"]))
    weights = torch.load(w)
    x = torch.stack([im.permute(2, 0, 1).float() / 255 for im in images])
    mean = torch.tensor(spec["input"]["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(spec["input"]["std"]).view(1, 3, 1, 1)
    x = (x - mean) / std
    wc = weights["first_conv.conv.weight"]
    y = F.conv2d(x, wc, stride=spec["first_conv"]["stride"], padding=wc.shape[-1] // 2)
    m = y.mean((0, 2, 3))
    v = ((y - m.view(1, -1, 1, 1)) ** 2).mean((0, 2, 3))
    got_m, got_v = bn["0/first_conv.bn.running_mean"], bn["0/first_conv.bn.running_var"]
    dm = (got_m - m).abs().max().item()
    dv = ((got_v - v).abs() / v).max().item()
    print("calibrate: first BN of level 0 against python3-torch: max|dmean| %.2g, max rel dvar %.2g" % (dm, dv))
    if dm > 1e-4 or dv > 1e-4:
        fail("calibrate: statistics differ from the calibrate-mode forward (%.3g, %.3g)" % (dm, dv))
    r = run([dofa, "eval", "--spec", spec_path, "--weights", w, "--level-table", out, "--level", "0", "--data", folder,
             "--json"])
    # --test re-measured each level's top-1 with its new statistics: what eval measures.
    if abs(json.loads(r.stdout)["top1"] - t["levels"][0]["top1_test"]) > 0.006:
        fail("calibrate --test: level 0 top1_test %s, eval says %s" % (t["levels"][0]["top1_test"], r.stdout))


def check_imagenet_path(dofa, tmp):
    r = run([sys.executable, os.path.join(FIXTURES, "ofa_ref.py"), "ofa-checkpoint", os.path.join(tmp, "ofa")])
    ckpt = r.stdout.strip()
    spec = os.path.join(ROOT, "models", "ofa-mbv3-w12.json")
    w = os.path.join(tmp, "w12.pt")
    run([dofa, "import-ofa", ckpt, "--spec", spec, "--out", w])
    # ImageNet's layout: 1000 class folders (labels in name order), 20 images in all.
    folder, _ = write_folder(tmp, "imagenet", 20, 1, 40, 9)
    for c in range(20, 1000):
        os.makedirs(os.path.join(folder, "class%04d" % c))
    table = os.path.join(tmp, "w12-cpu.json")
    run([dofa, "calibrate", "--spec", spec, "--weights", w, "--level-table",
         os.path.join(ROOT, "luts", "ofa-mbv3-w12-cpu.json"), "--data", folder, "--images", "20", "--out", table])
    t = json.load(open(table))
    if t["source"] != "published" or len(t["levels"]) != 6 or not t["provenance"]["weights_sha256"]:
        fail("imagenet: calibrated published table %s" % t["provenance"])
    r = run([dofa, "eval", "--spec", spec, "--weights", w, "--level-table", table, "--level", "5", "--data", folder,
             "--json"])
    if json.loads(r.stdout)["images"] != 20:
        fail("imagenet: eval " + r.stdout)
    lut = os.path.join(tmp, "w12-lut")
    run([dofa, "profile", "--spec", spec, "--resolutions", "224", "--out", lut, "--runs", "1", "--archs", "0"])
    out = os.path.join(tmp, "w12-width.json")
    r = run([dofa, "search", "--spec", spec, "--weights", w, "--lut", lut, "--dims", "width", "--out", out,
             "--data", folder, "--val", folder, "--test", folder, "--predictor-archs", "10", "--sweep", "1",
             "--levels", "2"])
    t = json.load(open(out))
    if not t["levels"] or any(l["arch"].split("-")[0] != "r224" or "k7777.7777" not in l["arch"] for l in t["levels"]):
        fail("imagenet: width-only search levels %s" % [l["arch"] for l in t["levels"]])
    print("imagenet: import-ofa, calibrate of nets_6 on 20 images, eval, profile at 224, width-only search: ok")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dofa = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        spec_path, spec, w, table = check_fmnist_chain(dofa, tmp)
        check_calibrate_statistics(dofa, tmp, spec_path, spec, w, table)
        check_imagenet_path(dofa, tmp)
    if failures:
        sys.exit("%d failure(s)" % len(failures))
    print("all design-time checks passed")


if __name__ == "__main__":
    main()

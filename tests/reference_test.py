#!/usr/bin/python3
"""Checks the dofa binary against the independent Python reference
(tests/fixtures/ofa_ref.py, python3-torch):

  * the reference's key list is the official checkpoint's;
  * `dofa infer` on random supernet weights, for the max, min and three random
    sub-networks: max|dlogit| / max|logit| <= 1e-4 against the reference;
  * `dofa import-ofa` on legacy-format checkpoints: a correct one imports and
    the written file loads in Python with the same tensors; one with missing,
    mis-shaped or unexpected keys fails, names every such key and writes nothing;
  * `dofa export`: a static network built from nothing but the written
    net.config and init (OFA's MobileNetV3 config and static key names) gives
    the reference's logits.

usage: /usr/bin/python3 tests/reference_test.py PATH_TO_dofa
(meson sets DOFA_DATA_PATH to the source root.)
"""

import os
import subprocess
import sys
import tempfile

import json

import torch
import torch.nn.functional as F

TOLERANCE = 1e-4
ARCHS = ["max", "min", "rand0", "rand1", "rand2"]
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("DOFA_DATA_PATH", os.path.dirname(HERE)).split(":")[0]
REFERENCE = os.path.join(os.environ.get("DOFA_FIXTURES", os.path.join(HERE, "fixtures")), "ofa_ref.py")
SPEC = os.path.join(ROOT, "models", "ofa-mbv3-w12.json")

failures = []


def fail(msg):
    print("FAIL: " + msg)
    failures.append(msg)


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)


def reference(*args):
    r = run([sys.executable, REFERENCE] + list(args))
    if r.returncode != 0:
        sys.exit("ofa_ref.py %s failed:\n%s" % (args[0], r.stderr))
    return r.stdout.strip()


def check_keys():
    """The reference's supernet keys are exactly the official checkpoint's (tests/fixtures/ofa-mbv3-w12-keys.txt)."""
    with open(os.path.join(os.path.dirname(REFERENCE), "ofa-mbv3-w12-keys.txt")) as f:
        official = f.read().splitlines()[1:]  # first line: a summary
    ours = reference("keys").splitlines()
    if ours != official:
        diff = [(a, b) for a, b in zip(ours, official) if a != b][:3]
        fail("ofa_ref.py keys differ from the official list (%d vs %d lines; first differences %s)" %
             (len(ours), len(official), diff))
    else:
        print("keys: %d, same names, order and shapes as the official checkpoint" % len(ours))


def check_infer(dofa, tmp):
    print(reference("reference", tmp))
    help_text = run([dofa, "infer", "--help"]).stdout
    modes = [[]] + ([["--dynamic"]] if "--dynamic" in help_text else [])
    for name in ARCHS:
        want = torch.load(os.path.join(tmp, "logits_%s.pt" % name))
        for mode in modes:
            label = "infer %-5s %s" % (name, " ".join(mode) or "(level)")
            out = os.path.join(tmp, "out_%s%s.pt" % (name, "_".join(mode)))
            r = run([dofa, "infer", "--spec", SPEC, "--weights", os.path.join(tmp, "weights.pt"),
                     "--arch", "@" + os.path.join(tmp, "arch_%s.json" % name),
                     "--input", os.path.join(tmp, "input.pt"), "--output", out] + mode)
            if r.returncode != 0:
                fail("%s: exit %d\n%s" % (label, r.returncode, r.stderr))
                continue
            got = torch.load(out)
            if got.shape != want.shape or got.dtype != want.dtype:
                fail("%s: logits %s %s, expected %s %s" % (label, got.dtype, list(got.shape), want.dtype,
                                                           list(want.shape)))
                continue
            rel = ((got - want).abs().max() / want.abs().max()).item()
            print("%s: max|dlogit|/max|logit| = %.3g" % (label, rel))
            if not rel <= TOLERANCE:
                fail("%s: %.3g > %g" % (label, rel, TOLERANCE))


def check_import_good(dofa, tmp):
    ckpt = reference("ofa-checkpoint", os.path.join(tmp, "good"))
    out = os.path.join(tmp, "imported.pt")
    r = run([dofa, "import-ofa", ckpt, "--spec", SPEC, "--out", out])
    print(r.stdout.strip())
    if r.returncode != 0:
        fail("import-ofa of a correct checkpoint: exit %d\n%s" % (r.returncode, r.stderr))
        return
    want = torch.load(ckpt, map_location="cpu")["state_dict"]
    got = torch.load(out, map_location="cpu")
    counters = lambda keys: {k for k in keys if k.endswith(".num_batches_tracked")}
    if set(got) - counters(got) != set(want) - counters(want):
        fail("import-ofa: keys differ: missing %s, extra %s" % (sorted(set(want) - set(got) - counters(want))[:5],
                                                               sorted(set(got) - set(want))[:5]))
    bad = [k for k in got if k in want and (got[k].dtype != want[k].dtype or not torch.equal(got[k], want[k]))]
    if bad:
        fail("import-ofa: tensors differ: %s" % bad[:5])
    else:
        print("import-ofa: %d tensors read back equal in Python" % len(got))


def check_import_refused(dofa, tmp, label, spoil, fragments):
    ckpt = reference("ofa-checkpoint", os.path.join(tmp, label), *spoil)
    out = os.path.join(tmp, label + "_out.pt")
    r = run([dofa, "import-ofa", ckpt, "--spec", SPEC, "--out", out])
    if r.returncode == 0:
        fail("import-ofa %s: accepted" % label)
    lacking = [f for f in fragments if f not in r.stderr]
    if lacking:
        fail("import-ofa %s: stderr lacks %s:\n%s" % (label, lacking, r.stderr))
    if os.path.exists(out):
        fail("import-ofa %s: wrote %s" % (label, out))
    if r.returncode != 0 and not lacking:
        print("import-ofa %s: refused as expected (%s)" % (label, r.stderr.strip().splitlines()[0]))


def static_forward(config, sd, x):
    """OFA's static MobileNetV3 from its net.config, BN in eval mode with the stored statistics."""
    acts = {"relu": F.relu, "h_swish": F.hardswish, None: lambda t: t}
    eps = config["bn"]["eps"]

    def bn(t, prefix):
        return F.batch_norm(t, sd[prefix + ".running_mean"], sd[prefix + ".running_var"], sd[prefix + ".weight"],
                            sd[prefix + ".bias"], False, 0.0, eps)

    def conv_layer(t, name, cfg):
        t = F.conv2d(t, sd[name + ".conv.weight"], None, cfg["stride"], cfg["kernel_size"] // 2)
        if cfg["use_bn"]:
            t = bn(t, name + ".bn")
        return acts[cfg["act_func"]](t)

    x = conv_layer(x, "first_conv", config["first_conv"])
    for j, block in enumerate(config["blocks"]):
        c, p = block["conv"], "blocks.%d.conv." % j
        act, skip = acts[c["act_func"]], x
        if c["expand_ratio"] != 1:
            x = act(bn(F.conv2d(x, sd[p + "inverted_bottleneck.conv.weight"]), p + "inverted_bottleneck.bn"))
        w = sd[p + "depth_conv.conv.weight"]
        if w.shape[-1] != c["kernel_size"]:
            fail("export: block %d kernel %d, config says %d" % (j, w.shape[-1], c["kernel_size"]))
        x = act(bn(F.conv2d(x, w, None, c["stride"], w.shape[-1] // 2, 1, w.shape[0]), p + "depth_conv.bn"))
        if c["use_se"]:
            se = p + "depth_conv.se.fc."
            y = F.relu(F.conv2d(x.mean((2, 3), keepdim=True), sd[se + "reduce.weight"], sd[se + "reduce.bias"]))
            x = x * F.hardsigmoid(F.conv2d(y, sd[se + "expand.weight"], sd[se + "expand.bias"]))
        x = bn(F.conv2d(x, sd[p + "point_linear.conv.weight"]), p + "point_linear.bn")
        if block["shortcut"] is not None:
            x = x + skip
    x = conv_layer(x, "final_expand_layer", config["final_expand_layer"]).mean((2, 3), keepdim=True)
    x = conv_layer(x, "feature_mix_layer", config["feature_mix_layer"]).view(x.shape[0], -1)
    return F.linear(x, sd["classifier.linear.weight"], sd["classifier.linear.bias"])


def check_export(dofa, tmp):
    for name in ["min", "rand1"]:
        out = os.path.join(tmp, "export_" + name)
        r = run([dofa, "export", "--spec", SPEC, "--weights", os.path.join(tmp, "weights.pt"),
                 "--arch", "@" + os.path.join(tmp, "arch_%s.json" % name), "--out", out])
        if r.returncode != 0:
            fail("export %s: exit %d\n%s" % (name, r.returncode, r.stderr))
            continue
        with open(os.path.join(out, "net.config")) as f:
            config = json.load(f)
        sd = torch.load(os.path.join(out, "init"))
        with torch.no_grad():
            got = static_forward(config, sd, torch.load(os.path.join(tmp, "input.pt")))
        want = torch.load(os.path.join(tmp, "logits_%s.pt" % name))
        rel = ((got - want).abs().max() / want.abs().max()).item()
        print("export %-5s: %d blocks, %d tensors; static net from net.config + init: max|dlogit|/max|logit| = %.3g"
              % (name, len(config["blocks"]), len(sd), rel))
        if not rel <= TOLERANCE:
            fail("export %s: %.3g > %g" % (name, rel, TOLERANCE))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    dofa = sys.argv[1]
    if not os.path.exists(SPEC):
        sys.exit("spec %s not found" % SPEC)
    check_keys()
    with tempfile.TemporaryDirectory(prefix="dofa-reference-") as tmp:
        check_infer(dofa, tmp)
        check_export(dofa, tmp)
        check_import_good(dofa, tmp)
        missing = ["blocks.7.mobile_inverted_conv.depth_conv.se.fc.expand.bias", "classifier.linear.bias"]
        check_import_refused(dofa, tmp, "missing", ["--drop", missing[0], "--drop", missing[1]], missing)
        shaped = "blocks.3.mobile_inverted_conv.depth_conv.conv.7to5_matrix"
        check_import_refused(dofa, tmp, "shape", ["--reshape", shaped], [shaped, "[26, 25]", "[25, 25]"])
        extra = "blocks.21.mobile_inverted_conv.point_linear.conv.conv.weight"
        check_import_refused(dofa, tmp, "all", ["--drop", missing[0], "--reshape", shaped, "--extra", extra],
                             [missing[0], shaped, extra])
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all reference checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

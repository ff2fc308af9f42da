#!/usr/bin/python3
"""`dofa demo` end to end in its short mode, on the built-in model: the
summaries and plots, top-1 through appsrc ! dofaclassify ! appsink against
`dofa eval` on the same images, the tight target running a lower level than
the loose one, a level drop soon after the load step, and clear errors
without data or model.

usage: demo_test.py DOFA"""

import json
import os
import subprocess
import sys
import tempfile


def run(args, env=None, timeout=600):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env)


def must(args, env=None):
    r = run(args, env)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (r.returncode, " ".join(args), r.stdout[-3000:], r.stderr[-3000:]))
    return r


def phase(scenario, element, name):
    for e in scenario["elements"]:
        if e["element"] == element:
            for p in e["phases"]:
                if p["phase"] == name:
                    return p
    sys.exit("no phase %s of %s in %s" % (name, element, scenario["scenario"]))


def main():
    dofa = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        # The three scenarios, a few hundred frames each.
        out = json.loads(must([dofa, "demo", "--frames", "300", "--out", tmp, "--json"]).stdout)
        scen = {s["scenario"]: s for s in out["scenarios"]}
        if sorted(scen) != ["group", "load", "target"]:
            sys.exit("scenarios run: %s" % sorted(scen))
        for p in out["plots"]:
            if not os.path.exists(p) or os.path.getsize(p) < 1000:
                sys.exit("plot %s missing or empty" % p)
        for s in scen.values():
            for e in s["elements"]:
                if e["frames"] != 300:
                    sys.exit("%s/%s: %d frames, expected 300" % (s["scenario"], e["element"], e["frames"]))
        loose, tight = phase(scen["target"], "dofa", "loose"), phase(scen["target"], "dofa", "tight")
        if not tight["level"] < loose["level"]:
            sys.exit("the tight target ran level %d, the loose one %d" % (tight["level"], loose["level"]))
        idle, loaded = phase(scen["load"], "dofa", "idle"), phase(scen["load"], "dofa", "loaded")
        # The level must drop soon after the step, unless the level held already meets the target.
        # A busy thread on the same CPU time-slices the element: a frame that spans the end of a
        # slice waits out the other thread's slice, so a level misses on about L / slice of its
        # frames (one in 6-10 here) and its window p90 crosses T once four of 30 frames waited:
        # 20-35 frames after the step. The first change may be a move up that the idle phase had
        # already earned (its hold ending just then); under a load that does not scale with the
        # level the runtime manager may later try higher levels again (measured_levels.h), so the
        # loaded phase's most common level need not be lower.
        drop = loaded["frames_to_level_drop"]
        if not 0 <= drop <= 60 and loaded["met_share"] < 0.88:
            sys.exit("after the load step: level %d, first change after %d frames to %d, drop after %d frames, "
                     "%.1f %% within target (expected a drop within 60 frames, or 88 %% within target)"
                     % (idle["level"], loaded["frames_to_level_change"], loaded["level_after_change"], drop,
                        100 * loaded["met_share"]))
        print("target: level %d loose, %d tight; load: level %d, first change to %d after %d frames, drop after %d, "
              "%.1f %% within target" % (loose["level"], tight["level"], idle["level"], loaded["level_after_change"],
                                         loaded["frames_to_level_change"], drop, 100 * loaded["met_share"]))

        # A fixed level through the pipeline equals dofa eval on the same images.
        level, n = 2, 1000
        fixed = json.loads(must([dofa, "demo", "--scenario", "fixed", "--level", str(level), "--frames", str(n),
                                 "--out", tmp, "--json"]).stdout)
        through = fixed["scenarios"][0]["elements"][0]["top1"]
        ev = json.loads(must([dofa, "eval", "--level-table", os.path.join(os.environ["DOFA_DATA_PATH"], "luts",
                                                                          "fmnist-mbv3-cpu.json"),
                              "--level", str(level), "--data", "fmnist:test", "--limit", str(n), "--json"]).stdout)
        if abs(through - ev["top1"]) > 0.1:
            sys.exit("level %d top-1: %.2f %% through the pipeline, %.2f %% by dofa eval" % (level, through, ev["top1"]))
        print("level %d on %d test images: %.2f %% through the pipeline, %.2f %% by dofa eval" % (level, n, through,
                                                                                                  ev["top1"]))

        # No data set, no model: a clear error, not a crash.
        env = dict(os.environ, DOFA_FMNIST_DIR=os.path.join(tmp, "nowhere"))
        no_data = run([dofa, "demo", "--frames", "60", "--out", tmp], env)
        if no_data.returncode != 1 or "nowhere" not in no_data.stderr:
            sys.exit("without the data set: exit %d, %s" % (no_data.returncode, no_data.stderr))
        no_model = run([dofa, "demo", "--frames", "60", "--out", tmp, "--model", os.path.join(tmp, "missing.json")])
        if no_model.returncode != 1 or "missing.json" not in no_model.stderr:
            sys.exit("without the model: exit %d, %s" % (no_model.returncode, no_model.stderr))
        print("clear errors without data (%s) and model (%s)" % (no_data.stderr.strip()[:100],
                                                                no_model.stderr.strip()[:100]))


if __name__ == "__main__":
    main()

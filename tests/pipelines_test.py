#!/usr/bin/python3
"""Runs every gst-launch-1.0 line of pipelines/README.md and the C application
dofa-app, as a user would, with videotestsrc for a camera, fakesink for a
display and num-buffers where a source is live or long. Inputs (a video file,
images) are made first with GStreamer itself.

With --cuda (tests/gpu/run.sh, on a GPU machine) only the device=cuda lines
run, and they must work; dofaoverlay is left out of them where the plugin was
built without OpenCV.

usage: pipelines_test.py README DOFA_APP
       pipelines_test.py --cuda README"""

import os
import re
import subprocess
import sys
import tempfile


def run(cmd, cwd, timeout=300):
    return subprocess.run(cmd, cwd=cwd, shell=isinstance(cmd, str), capture_output=True, text=True, timeout=timeout)


def must(cmd, cwd):
    r = run(cmd, cwd)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (r.returncode, cmd, r.stdout[-2000:], r.stderr[-2000:]))
    return r


def for_test(line):
    """The README line as the test runs it."""
    line = line.replace("v4l2src", "videotestsrc")
    line = line.replace("autovideosink", "fakesink")
    # Live or endless sources get an end.
    line = re.sub(r"videotestsrc(?![^!]*num-buffers)", "videotestsrc num-buffers=30", line)
    return line


def readme_lines(readme):
    text = open(readme).read()
    return [l.strip() for block in re.findall(r"```sh\n(.*?)```", text, re.S) for l in block.splitlines()
            if l.strip().startswith("gst-launch-1.0")]


def cuda_lines(readme):
    lines = [l for l in readme_lines(readme) if "device=cuda" in l]
    if not lines:
        sys.exit("no device=cuda line in %s" % readme)
    overlay = run("gst-inspect-1.0 dofaoverlay", None).returncode == 0
    for line in lines:
        cmd = for_test(line)
        if not overlay:
            cmd = cmd.replace("dofaoverlay ! ", "")
        must(cmd, None)
        print("ok on the GPU: %s" % cmd)


def main():
    if sys.argv[1] == "--cuda":
        return cuda_lines(sys.argv[2])
    readme, app = sys.argv[1], sys.argv[2]
    lines = readme_lines(readme)
    if len(lines) < 8:
        sys.exit("expected at least 8 gst-launch-1.0 lines in %s, found %d" % (readme, len(lines)))
    with tempfile.TemporaryDirectory() as tmp:
        # Inputs: a short MJPEG AVI and five PNG images.
        must("gst-launch-1.0 videotestsrc num-buffers=20 ! video/x-raw,width=160,height=120 ! jpegenc ! avimux ! "
             "filesink location=clip.avi", tmp)
        must("gst-launch-1.0 videotestsrc num-buffers=5 pattern=ball ! video/x-raw,width=64,height=64 ! pngenc ! "
             "multifilesink location=img-%03d.png", tmp)
        for line in lines:
            cmd = for_test(line)
            r = run(cmd, tmp)
            if "device=cuda" in line and r.returncode != 0:
                # No CUDA here: a clear refusal, not a crash.
                err = r.stdout + r.stderr
                if "cuda" not in err or "not available" not in err:
                    sys.exit("device=cuda failed without saying why:\n%s\n%s" % (cmd, err[-2000:]))
                print("refused as expected without CUDA: %s" % cmd)
                continue
            if r.returncode != 0:
                sys.exit("failed (%d): %s\n%s%s" % (r.returncode, cmd, r.stdout[-2000:], r.stderr[-2000:]))
            if " -m " in line and "dofa-stats" not in r.stdout:
                sys.exit("no dofa-stats message printed by: %s" % cmd)
            print("ok: %s" % cmd)
        for out in ["annotated.avi", "labelled-000.png", "labelled-004.png"]:
            path = os.path.join(tmp, out)
            if not os.path.exists(path) or os.path.getsize(path) == 0:
                sys.exit("%s was not written" % out)
        # The C application: statistics every second and the target walked on a timer.
        # A live source paced at 30 fps lasts 3 s on any machine (unpaced, a fast one
        # reached the end of the stream before the first switch).
        r = must([app, "--source", "videotestsrc is-live=true num-buffers=90 ! "
                  "video/x-raw,width=320,height=240,framerate=30/1", "--targets", "5,1", "--switch-seconds", "1"], tmp)
        stats = [l for l in r.stdout.splitlines() if " fps " in l]
        if not stats or "setting latency-ms=1.00" not in r.stdout:
            sys.exit("dofa-app printed no statistics or never changed latency-ms:\n" + r.stdout)
        bad = run([app, "--targets", "5,x"], tmp)
        if bad.returncode != 2 or "'x' is not a latency" not in bad.stderr:
            sys.exit("dofa-app accepted a bad --targets: %d %s" % (bad.returncode, bad.stderr))
        print("dofa-app: %d statistics lines, e.g. %s" % (len(stats), stats[0]))


if __name__ == "__main__":
    main()

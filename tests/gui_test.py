#!/usr/bin/python3
"""The GUI controller for real, under Xvfb: start it on a live test source,
move the latency-ms slider programmatically and check that the element reacted
(a dofa-level-changed message on the bus, a lower level); save a screenshot.

usage: xvfb-run -a gui_test.py pipelines/dofa-gui.py [SCREENSHOT]"""

import importlib.machinery
import os
import sys
import tempfile
import time


def main():
    gui = importlib.machinery.SourceFileLoader("dofa_gui", sys.argv[1]).load_module()
    Gst, Gtk = gui.Gst, gui.Gtk
    Gst.init(None)
    # 10 fps: upstream QoS (frame duration / proportion) stays far above any level's time.
    app = gui.Controller("videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=10/1",
                         0.0)
    app.start()
    try:
        check(app, Gst, Gtk)
    finally:
        app.pipeline.set_state(Gst.State.NULL)


def check(app, Gst, Gtk):
    def pump(until, seconds, what):
        end = time.monotonic() + seconds
        while not until():
            if time.monotonic() > end:
                sys.exit("timed out waiting for %s (status: %s)" % (what, app.status.get_text()))
            Gtk.main_iteration_do(False)
            time.sleep(0.005)

    pump(lambda: len(app.frames) >= 20, 60, "20 classified frames")
    before = app.classify.get_property("current-level")
    if before <= 0:
        sys.exit("with no target the element runs level %d (messages: %s)" % (before, [m.to_string() for m in app.messages]))
    seen = len(app.messages)
    app.slider.set_value(0.1)  # tighter than any level: the fastest level
    pump(lambda: len(app.messages) > seen and app.classify.get_property("current-level") < before, 30,
         "a level change after the slider moved")
    s = app.messages[-1]
    if abs(app.classify.get_property("latency-ms") - 0.1) > 1e-9:
        sys.exit("the slider did not set latency-ms")
    print("slider -> latency-ms 0.1: level %d -> %d (%s), message seen" % (
        s.get_value("old-level"), s.get_value("new-level"), s.get_value("reason")))
    pump(lambda: len(app.frames) >= 40, 30, "more frames")
    shot = sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.mkdtemp(), "gui.png")
    app.screenshot(shot)
    if os.path.getsize(shot) < 5000:
        sys.exit("screenshot %s is empty" % shot)
    print("screenshot: %s" % shot)


if __name__ == "__main__":
    main()

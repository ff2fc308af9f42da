#!/usr/bin/python3
"""Reads dofaclassify's results from Python with Debian's python3-gi and no
binding of ours: the GstCustomMeta "DofaClassification" through
buf.get_custom_meta(), in a pad probe of a real pipeline."""

import os
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

FIXTURES = os.environ["DOFA_FIXTURES"]


def main():
    Gst.init(None)
    pipeline = Gst.parse_launch(
        "videotestsrc num-buffers=8 ! video/x-raw,format=I420,width=64,height=48 ! "
        "dofaclassify name=c top-k=3 model=%s level-table=%s ! fakesink name=sink"
        % (os.path.join(FIXTURES, "tiny-mbv3.json"), os.path.join(FIXTURES, "tiny-mbv3-cpu.json")))
    seen = []

    def probe(pad, info):
        buf = info.get_buffer()
        meta = buf.get_custom_meta("DofaClassification")
        if meta is not None:
            s = meta.get_structure()
            seen.append((s.get_value("class-id"), s.get_value("label"), s.get_value("confidence"),
                         s.get_value("level"), s.get_value("stale")))
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        sys.exit("pipeline did not reach EOS: %s" % (msg.parse_error() if msg else "timeout"))
    if len(seen) != 8:
        sys.exit("DofaClassification meta on %d of 8 buffers" % len(seen))
    for class_id, label, confidence, level, stale in seen:
        if not (0 <= class_id < 10 and label and 0 < confidence <= 1 and 0 <= level < 3 and stale is False):
            sys.exit("bad meta fields: %r" % ((class_id, label, confidence, level, stale),))
    print("python read DofaClassification on 8/8 buffers, e.g. %r" % (seen[0],))


if __name__ == "__main__":
    main()

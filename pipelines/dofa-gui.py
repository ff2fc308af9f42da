#!/usr/bin/python3
"""dofa-gui: a controller for a running dofaclassify, as any application would
drive it: through its properties, its bus messages and the metadata on its
buffers (the GstCustomMeta "DofaClassification").

  live video with the result drawn by dofaoverlay (appsink, drawn with cairo)
  a slider for latency-ms, a device selector fed by available-devices,
  a level selector (automatic or a fixed level)
  a live plot: time per frame against the target, coloured by level

usage: dofa-gui.py [--source DESC] [--latency-ms T] [--screenshot PNG --seconds N]

Needs Debian's python3-gi, python3-gi-cairo and gir1.2-gtk-3.0.
"""

import argparse
import collections
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
gi.require_version("GdkPixbuf", "2.0")
from gi.repository import Gdk, GdkPixbuf, GLib, Gst, Gtk  # noqa: E402

# Level colours of the plot, as in `dofa demo`'s timelines.
COLOURS = [(0.84, 0.15, 0.16), (1.0, 0.5, 0.05), (0.74, 0.74, 0.13), (0.17, 0.63, 0.17), (0.09, 0.75, 0.81),
           (0.12, 0.47, 0.71), (0.58, 0.40, 0.74)]
HISTORY = 300  # frames in the plot


class Controller(Gtk.Window):
    def __init__(self, source, latency_ms):
        super().__init__(title="dofa: latency-controlled classification")
        self.set_default_size(960, 640)
        self.frames = collections.deque(maxlen=HISTORY)  # (ms, target, level), main thread only
        self.messages = []  # dofa-level-changed structures seen, main thread only
        self.level_changes = 0

        self.pipeline = Gst.parse_launch(
            "%s ! videoconvert ! dofaclassify name=classify latency-ms=%g ! dofaoverlay ! videoconvert ! "
            "video/x-raw,format=RGB ! appsink name=sink emit-signals=true max-buffers=1 drop=true sync=false"
            % (source, latency_ms))
        self.picture = None  # the last frame as a GdkPixbuf, main thread only
        self.pipeline.get_by_name("sink").connect("new-sample", self.on_sample)
        self.classify = self.pipeline.get_by_name("classify")
        self.classify.get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, self.on_buffer)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

        # Controls.
        self.slider = Gtk.Scale.new_with_range(Gtk.Orientation.HORIZONTAL, 0, 20, 0.1)
        self.slider.set_value(latency_ms)
        self.slider.set_hexpand(True)
        self.slider.connect("value-changed", lambda s: self.classify.set_property("latency-ms", s.get_value()))
        self.device = Gtk.ComboBoxText()
        for d in self.classify.get_property("available-devices").split(","):
            self.device.append(d, d)
        self.device.set_active_id("cpu")
        self.device.connect("changed", lambda c: self.classify.set_property("device", c.get_active_id()))
        self.level = Gtk.ComboBoxText()
        self.level.append("-1", "automatic")
        self.level.set_active_id("-1")
        self.level.connect("changed", self.on_level_chosen)
        self.status = Gtk.Label(label="starting", xalign=0)

        controls = Gtk.Grid(column_spacing=8, row_spacing=4, margin=6)
        controls.attach(Gtk.Label(label="latency-ms"), 0, 0, 1, 1)
        controls.attach(self.slider, 1, 0, 1, 1)
        controls.attach(Gtk.Label(label="device"), 2, 0, 1, 1)
        controls.attach(self.device, 3, 0, 1, 1)
        controls.attach(Gtk.Label(label="level"), 4, 0, 1, 1)
        controls.attach(self.level, 5, 0, 1, 1)
        controls.attach(self.status, 0, 1, 6, 1)

        self.plot = Gtk.DrawingArea()
        self.plot.set_size_request(-1, 200)
        self.plot.connect("draw", self.on_draw)
        video = Gtk.DrawingArea()
        video.set_vexpand(True)
        video.connect("draw", self.on_draw_video)
        self.video = video
        box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL)
        box.pack_start(video, True, True, 0)
        box.pack_start(controls, False, False, 0)
        box.pack_start(self.plot, False, False, 0)
        self.add(box)
        self.connect("destroy", self.quit)
        GLib.timeout_add(100, self.refresh)

    def start(self):
        self.show_all()
        self.pipeline.set_state(Gst.State.PLAYING)

    def quit(self, *args):
        self.pipeline.set_state(Gst.State.NULL)
        Gtk.main_quit()

    # Streaming thread: copy what the plot needs, hand it to the main thread.
    def on_buffer(self, pad, info):
        meta = info.get_buffer().get_custom_meta("DofaClassification")
        if meta is not None:
            s = meta.get_structure()
            if not s.get_value("stale"):
                frame = (s.get_value("pre-ms") + s.get_value("infer-ms"), s.get_value("level"))
                GLib.idle_add(self.add_frame, frame)
        return Gst.PadProbeReturn.OK

    # Streaming thread: the frame with dofaoverlay's text, copied for the main thread.
    def on_sample(self, sink):
        sample = sink.emit("pull-sample")
        caps = sample.get_caps().get_structure(0)
        w, h = caps.get_value("width"), caps.get_value("height")
        buf = sample.get_buffer()
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            data = GLib.Bytes.new(info.data)
            buf.unmap(info)
            stride = (w * 3 + 3) & ~3  # GStreamer pads RGB rows to 4 bytes
            GLib.idle_add(self.show_picture, GdkPixbuf.Pixbuf.new_from_bytes(
                data, GdkPixbuf.Colorspace.RGB, False, 8, w, h, stride))
        return Gst.FlowReturn.OK

    def show_picture(self, pixbuf):
        self.picture = pixbuf
        self.video.queue_draw()
        return False

    def on_draw_video(self, widget, cr):
        w, h = widget.get_allocated_width(), widget.get_allocated_height()
        cr.set_source_rgb(0, 0, 0)
        cr.paint()
        if self.picture is None:
            return
        scale = min(w / self.picture.get_width(), h / self.picture.get_height())
        cr.translate((w - scale * self.picture.get_width()) / 2, (h - scale * self.picture.get_height()) / 2)
        cr.scale(scale, scale)
        Gdk.cairo_set_source_pixbuf(cr, self.picture, 0, 0)
        cr.paint()

    def add_frame(self, frame):
        self.frames.append((frame[0], self.classify.get_property("latency-ms"), frame[1]))
        return False

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "dofa-level-changed":
            s = msg.get_structure()
            self.messages.append(s.copy())
            self.level_changes += 1
            self.status.set_text("level %d -> %d (%s), expected top-1 %.1f %%" % (
                s.get_value("old-level"), s.get_value("new-level"), s.get_value("reason"),
                s.get_value("expected-accuracy")))
        elif msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "dofa-levels-measured":
            for i in range(msg.get_structure().get_value("num-levels")):
                self.level.append(str(i), "level %d" % i)
        elif msg.type == Gst.MessageType.ELEMENT and msg.get_structure().get_name() == "dofa-device-refused":
            s = msg.get_structure()
            self.status.set_text("device %s refused: %s" % (s.get_value("requested"), s.get_value("reason")))
            self.device.set_active_id(s.get_value("device"))
        elif msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            self.status.set_text("error: %s" % err.message)
        elif msg.type == Gst.MessageType.EOS:
            self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, 0)

    def on_level_chosen(self, combo):
        if combo.get_active_id() is not None:
            self.classify.set_property("level", int(combo.get_active_id()))

    def refresh(self):
        self.plot.queue_draw()
        return True

    def on_draw(self, widget, cr):
        w, h = widget.get_allocated_width(), widget.get_allocated_height()
        cr.set_source_rgb(1, 1, 1)
        cr.paint()
        if not self.frames:
            return
        top = max(max(f[0] for f in self.frames), max(f[1] for f in self.frames)) * 1.2 or 1.0
        y = lambda ms: h - 4 - (h - 20) * ms / top  # noqa: E731
        x = lambda i: 4 + (w - 8) * i / HISTORY  # noqa: E731
        for i, (ms, target, level) in enumerate(self.frames):
            cr.set_source_rgb(*COLOURS[level % len(COLOURS)])
            cr.arc(x(i), y(ms), 2, 0, 6.2832)
            cr.fill()
        cr.set_source_rgb(0, 0, 0)
        cr.set_dash([6, 4])
        for i, (_, target, _) in enumerate(self.frames):
            if target > 0:
                (cr.line_to if i else cr.move_to)(x(i), y(target))
        cr.stroke()
        cr.set_dash([])
        cr.move_to(6, 14)
        cr.show_text("time per frame (dots, colour = level) and latency-ms (dashed); top of plot %.1f ms" % top)

    def screenshot(self, path):
        window = self.get_window()
        pixbuf = Gdk.pixbuf_get_from_window(window, 0, 0, window.get_width(), window.get_height())
        pixbuf.savev(path, "png", [], [])


def main():
    p = argparse.ArgumentParser(description="A live controller for dofaclassify.")
    p.add_argument("--source", default="videotestsrc pattern=ball is-live=true",
                   help="GStreamer source description (default a moving ball test picture)")
    p.add_argument("--latency-ms", type=float, default=5.0, help="initial latency target (default 5)")
    p.add_argument("--screenshot", help="save the window as PNG after --seconds, then quit")
    p.add_argument("--seconds", type=float, default=3.0)
    args = p.parse_args()
    Gst.init(None)
    app = Controller(args.source, args.latency_ms)
    app.start()
    if args.screenshot:
        def shoot():
            app.screenshot(args.screenshot)
            app.quit()
            return False
        GLib.timeout_add(int(args.seconds * 1000), shoot)
    Gtk.main()


if __name__ == "__main__":
    sys.exit(main())

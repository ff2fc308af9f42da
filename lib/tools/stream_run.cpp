#include "stream_run.h"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <chrono>
#include <cstring>
#include <map>

#include "busy_load.h"
#include "dataset.h"
#include "dofa_config.h"
#include "error.h"
#include "frame_stats.h"
#include "preprocess_math.h"

namespace dofa::cli {

using Clock = std::chrono::steady_clock;

GreyFrames load_grey_frames(const std::string& data, int n) {
  const Dataset ds = Dataset::open(data).first(n);
  GreyFrames f;
  for (int i = 0; i < ds.size(); ++i) {
    const Image img = ds.image(i);
    if (i == 0) f.width = img.width, f.height = img.height;
    if (img.width != f.width || img.height != f.height)
      throw Error(data + ": image " + std::to_string(i) + " is " + std::to_string(img.width) + "x" +
                  std::to_string(img.height) + ", expected every image " + std::to_string(f.width) + "x" +
                  std::to_string(f.height));
    for (int y = 0; y < img.height; ++y)
      for (int x = 0; x < img.width; ++x)
        f.pixels.push_back(img.channels == 1 ? img.at(x, y)
                                             : pixel::rgb_grey(img.at(x, y, 0), img.at(x, y, 1), img.at(x, y, 2)));
    f.labels.push_back(ds.label(i));
  }
  if (f.labels.empty()) throw Error(data + ": no images");
  return f;
}

void init_gstreamer() {
  g_setenv("GST_PLUGIN_PATH", DOFA_BUILD_DIR "/gst", FALSE);
  gst_init(nullptr, nullptr);
}

struct StreamRun::Impl {
  struct Chain {
    Impl* run = nullptr;
    int index = 0;  // in the run
    ChainSpec spec;
    GstElement *src = nullptr, *dofa = nullptr;
    int pushed = 0, entered = 0;  // streaming thread only
    bool pinned = false;
    std::multimap<int, std::function<void(GstElement*)>> actions;
    std::vector<FrameRecord> records;
  };

  const GreyFrames& frames;
  GstElement* pipeline = nullptr;
  std::vector<std::unique_ptr<Chain>> chains;
  std::function<void(int, const FrameRecord&)> on_frame;
  std::vector<StreamMessage> messages;
  Clock::time_point t0;
  size_t stride = 0;  // GStreamer's GRAY8 rows are padded to 4 bytes

  explicit Impl(const GreyFrames& f) : frames(f), stride((size_t(f.width) + 3) & ~size_t(3)) {}
  double now_ms() const { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

  GstBuffer* frame_buffer(int i) const {
    const size_t plane = stride * frames.height;
    GstBuffer* b = gst_buffer_new_allocate(nullptr, plane, nullptr);
    GstMapInfo map;
    gst_buffer_map(b, &map, GST_MAP_WRITE);
    const uint8_t* px = frames.pixels.data() + size_t(i % frames.size()) * frames.width * frames.height;
    for (int y = 0; y < frames.height; ++y) std::memcpy(map.data + y * stride, px + size_t(y) * frames.width, frames.width);
    gst_buffer_unmap(b, &map);
    return b;
  }

  static void need_data(GstAppSrc* src, guint, gpointer data) {
    auto* c = static_cast<Chain*>(data);
    Impl* self = c->run;
    if (c->pushed >= c->spec.frames) {
      gst_app_src_end_of_stream(src);
      return;
    }
    GstBuffer* b = self->frame_buffer(c->pushed);
    GST_BUFFER_PTS(b) = guint64(c->pushed) * GST_SECOND / 30;
    GST_BUFFER_DURATION(b) = GST_SECOND / 30;
    ++c->pushed;
    gst_app_src_push_buffer(src, b);
  }

  // Before the element: pin the thread, run the frame's actions.
  // An action or the pinning that fails ends the run with its error.
  static GstPadProbeReturn before(GstPad*, GstPadProbeInfo*, gpointer data) {
    auto* c = static_cast<Chain*>(data);
    try {
      if (!c->pinned && c->spec.cpu >= 0) pin_this_thread(c->spec.cpu);
      c->pinned = true;
      auto range = c->actions.equal_range(c->entered);
      for (auto it = range.first; it != range.second; ++it) it->second(c->dofa);
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(c->dofa, LIBRARY, FAILED, ("%s", e.what()), (nullptr));
      return GST_PAD_PROBE_DROP;
    }
    ++c->entered;
    return GST_PAD_PROBE_OK;
  }

  // What the application gets: the classified frame with the element's metadata.
  static GstFlowReturn new_sample(GstAppSink* sink, gpointer data) {
    auto* c = static_cast<Chain*>(data);
    Impl* self = c->run;
    GstSample* sample = gst_app_sink_pull_sample(sink);
    if (!sample) return GST_FLOW_EOS;
    FrameRecord r;
    r.index = int(c->records.size());
    r.t_ms = self->now_ms();
    r.label = self->frames.labels[size_t(r.index % self->frames.size())];
    if (GstCustomMeta* m = gst_buffer_get_custom_meta(gst_sample_get_buffer(sample), "DofaClassification")) {
      const GstStructure* st = gst_custom_meta_get_structure(m);
      gboolean stale = FALSE;
      gst_structure_get(st, "level", G_TYPE_INT, &r.level, "pre-ms", G_TYPE_DOUBLE, &r.pre_ms, "infer-ms",
                        G_TYPE_DOUBLE, &r.infer_ms, "class-id", G_TYPE_INT, &r.class_id, "expected-accuracy",
                        G_TYPE_DOUBLE, &r.expected_accuracy, "stale", G_TYPE_BOOLEAN, &stale, NULL);
      r.stale = stale;
    }
    gst_sample_unref(sample);
    g_object_get(c->dofa, "latency-ms", &r.target_ms, NULL);
    c->records.push_back(r);
    if (self->on_frame) self->on_frame(c->index, r);
    return GST_FLOW_OK;
  }
};

StreamRun::StreamRun(const GreyFrames& frames, const std::vector<ChainSpec>& chains)
    : impl_(std::make_unique<Impl>(frames)) {
  if (chains.empty()) throw Error("stream run: no chains");
  std::string launch;
  for (const ChainSpec& c : chains) {
    launch += "appsrc name=" + c.name + "_src format=time max-bytes=" +
              std::to_string(impl_->stride * frames.height) + " caps=\"video/x-raw,format=GRAY8,width=" +
              std::to_string(frames.width) + ",height=" + std::to_string(frames.height) +
              ",framerate=30/1\" ! dofaclassify name=" + c.name + " " + c.properties + " ! appsink name=" + c.name +
              "_sink sync=false ";
  }
  GError* err = nullptr;
  GstElement* pipe = gst_parse_launch(launch.c_str(), &err);
  if (!pipe || err) {
    const std::string msg = err ? err->message : "unknown error";
    g_clear_error(&err);
    if (pipe) gst_object_unref(pipe);
    throw Error("cannot build the pipeline '" + launch + "': " + msg);
  }
  impl_->pipeline = pipe;
  for (const ChainSpec& cs : chains) {
    auto c = std::make_unique<Impl::Chain>();
    c->run = impl_.get();
    c->index = int(impl_->chains.size());
    c->spec = cs;
    c->src = gst_bin_get_by_name(GST_BIN(pipe), (cs.name + "_src").c_str());
    c->dofa = gst_bin_get_by_name(GST_BIN(pipe), cs.name.c_str());
    GstAppSrcCallbacks cb = {};
    cb.need_data = Impl::need_data;
    gst_app_src_set_callbacks(GST_APP_SRC(c->src), &cb, c.get(), nullptr);
    GstPad* sink = gst_element_get_static_pad(c->dofa, "sink");
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, Impl::before, c.get(), nullptr);
    gst_object_unref(sink);
    GstElement* appsink = gst_bin_get_by_name(GST_BIN(pipe), (cs.name + "_sink").c_str());
    GstAppSinkCallbacks sink_cb = {};
    sink_cb.new_sample = Impl::new_sample;
    gst_app_sink_set_callbacks(GST_APP_SINK(appsink), &sink_cb, c.get(), nullptr);
    gst_object_unref(appsink);
    impl_->chains.push_back(std::move(c));
  }
}

StreamRun::~StreamRun() {
  gst_element_set_state(impl_->pipeline, GST_STATE_NULL);
  for (auto& c : impl_->chains) {
    gst_object_unref(c->src);
    gst_object_unref(c->dofa);
  }
  gst_object_unref(impl_->pipeline);
}

GstElement* StreamRun::element(int chain) const { return impl_->chains.at(size_t(chain))->dofa; }

void StreamRun::at(int chain, int frame, std::function<void(GstElement*)> action) {
  impl_->chains.at(size_t(chain))->actions.emplace(frame, std::move(action));
}

void StreamRun::on_frame(std::function<void(int, const FrameRecord&)> callback) { impl_->on_frame = std::move(callback); }

const std::vector<StreamMessage>& StreamRun::messages() const { return impl_->messages; }

std::vector<std::vector<FrameRecord>> StreamRun::run() {
  Impl& m = *impl_;
  for (auto& c : m.chains) c->pushed = c->entered = 0, c->pinned = false, c->records.clear();
  m.messages.clear();
  GstBus* bus = gst_element_get_bus(m.pipeline);
  m.t0 = Clock::now();
  std::string error;
  // A refused start (a missing model, say) leaves the element's error on the bus: read on to it.
  const bool started = gst_element_set_state(m.pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE;
  for (bool done = false; !done;) {
    GstMessage* msg = gst_bus_timed_pop(bus, started ? GST_CLOCK_TIME_NONE : GST_SECOND);
    if (!msg) {  // refused, and no error said why
      error = "the pipeline did not start";
      break;
    }
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS: done = true; break;
      case GST_MESSAGE_ERROR: {
        GError* e = nullptr;
        gchar* dbg = nullptr;
        gst_message_parse_error(msg, &e, &dbg);
        error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + e->message + (dbg ? std::string(" (") + dbg + ")" : "");
        g_clear_error(&e);
        g_free(dbg);
        done = true;
        break;
      }
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* s = gst_message_get_structure(msg);
        if (s && g_str_has_prefix(gst_structure_get_name(s), "dofa-")) {
          m.messages.push_back({m.now_ms(), GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)),
                                std::shared_ptr<GstStructure>(gst_structure_copy(s), gst_structure_free)});
        }
        break;
      }
      default: break;
    }
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  gst_element_set_state(m.pipeline, GST_STATE_NULL);
  if (!error.empty()) throw Error(error);
  std::vector<std::vector<FrameRecord>> out;
  for (auto& c : m.chains) out.push_back(std::move(c->records));
  return out;
}


namespace {

std::vector<double> doubles(const GstStructure* s, const char* field) {
  std::vector<double> v;
  const GValue* arr = gst_structure_get_value(s, field);
  if (arr && GST_VALUE_HOLDS_ARRAY(arr))
    for (guint i = 0; i < gst_value_array_get_size(arr); ++i)
      v.push_back(g_value_get_double(gst_value_array_get_value(arr, i)));
  return v;
}

}  // namespace

LevelInfo level_info(const GreyFrames& frames, const std::string& properties, int cpu) {
  StreamRun run(frames, {{"dofa", properties, 5, cpu}});
  run.run();
  LevelInfo info;
  for (const StreamMessage& m : run.messages())
    if (g_str_equal(gst_structure_get_name(m.structure.get()), "dofa-levels-measured")) {
      info.accuracy = doubles(m.structure.get(), "accuracy");
      info.measured_ms = doubles(m.structure.get(), "measured-ms");
      info.table_p90_ms = doubles(m.structure.get(), "table-p90-ms");
    }
  if (info.size() < 2)
    throw Error("the model needs at least 2 levels for this (it has " + std::to_string(info.size()) + ")");
  return info;
}

std::vector<double> level_p90s(const GreyFrames& frames, const std::string& properties, int cpu, int levels,
                               int n, bool loaded, int rounds) {
  std::unique_ptr<BusyLoad> load;
  if (loaded) load = std::make_unique<BusyLoad>(1, std::vector<int>{cpu});
  std::vector<double> p90(size_t(levels), 0);
  for (int round = 0; round < rounds; ++round)
    for (int i = 0; i < levels; ++i) {
      StreamRun run(frames, {{"dofa", properties + " level=" + std::to_string(i), n, cpu}});
      p90[size_t(i)] = std::max(p90[size_t(i)], p90_total_ms({run.run()[0], kWarmupFrames}));
    }
  return p90;
}

int level_between_slices(const LevelInfo& levels, const std::vector<double>& idle, const std::vector<double>& loaded) {
  int between = -1;
  for (int i = 0; i < levels.size(); ++i)
    if (loaded[size_t(i)] <= 2 * idle[size_t(i)] &&
        (between < 0 || levels.accuracy[size_t(i)] > levels.accuracy[size_t(between)]))
      between = i;
  return between;
}

}  // namespace dofa::cli

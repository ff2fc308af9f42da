/* GStreamer dofa: dofaclassify
 *
 * SECTION:element-dofaclassify
 * @title: dofaclassify
 *
 * Classifies video frames with a Dynamic-OFA model: one supernet and a family
 * of levels (sub-networks, 0 = fastest ... num-levels - 1 = most accurate) on
 * the accuracy-latency Pareto front. A runtime manager picks, frame by frame,
 * the most accurate level that keeps the time spent on a frame within
 * #GstDofaClassify:latency-ms while other programs load the machine and the
 * target itself changes; a switch takes effect on the next frame.
 *
 * The element works in place and never in passthrough: every buffer leaves
 * with a #GstDofaClassificationMeta (library gstreamer-dofa-1.0), a
 * GstCustomMeta "DofaClassification" with the same fields (readable from
 * Python: `buf.get_custom_meta("DofaClassification").get_structure()`) and a
 * full-frame GstVideoRegionOfInterestMeta (id -1) with a "classification"
 * param (label, confidence, label_id, level, model_name).
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! videoconvert ! dofaclassify latency-ms=5 ! fakesink
 * gst-launch-1.0 -m filesrc location=clip.mp4 ! decodebin ! videoconvert ! dofaclassify latency-ms=30 accuracy-min=85 ! fakesink
 * gst-launch-1.0 videotestsrc ! dofaclassify level=0 ! fakesink    # fixed level, runtime manager off
 * ]|
 *
 * ## Messages (element messages on the bus; #GstDofaClassify:post-messages turns them all off)
 *
 * dofa-level-changed, on every level change:
 * - `old-level` (gint), `new-level` (gint): levels before and after
 * - `reason` (string): target, load, accuracy-min, fixed, qos, group, unreachable
 * - `target-ms` (gdouble): the effective target (0 = none)
 * - `measured-ms` (gdouble): recent p90 of the time spent on a frame
 * - `expected-accuracy` (gdouble): the new level's top-1 in percent (-1 unknown)
 * - `running-time` (guint64): running time of the buffer that triggered it
 *
 * dofa-stats, every #GstDofaClassify:stats-interval frames:
 * - `level` (gint), `frames` (guint64), `switches` (guint64), `fps` (gdouble)
 * - `pre-p50-ms`, `pre-p90-ms` (gdouble): map + preprocess + meta
 * - `infer-p50-ms`, `infer-p90-ms` (gdouble): input tensor to logits
 *
 * dofa-levels-measured, once the model is loaded:
 * - `num-levels` (gint)
 * - `measured-ms` (GstValueArray of gdouble): each level's latency measured at load on this machine
 * - `table-p90-ms` (GstValueArray of gdouble): each level's p90 from the level table (0 = none)
 * - `accuracy` (GstValueArray of gdouble): each level's expected top-1 in percent (-1 unknown)
 *
 * dofa-target-unreachable, once per episode in which no level meets the target:
 * - `target-ms` (gdouble), `fastest-ms` (gdouble): the target and level 0's expected time
 * - `accuracy-conflict` (gboolean): TRUE when accuracy-min was given up for the target
 *
 * dofa-device-refused, when #GstDofaClassify:device is set to a device that cannot run:
 * - `requested` (string), `device` (string, the one kept), `reason` (string)
 *
 * dofa-device-changed, on the first frame run on a device set while playing
 * (its Model is loaded and warmed in the background while the old device
 * keeps classifying; no frame waits and none is dropped):
 * - `old-device`, `new-device` (string), `num-levels` (gint), `level` (gint): the level chosen there
 * A dofa-levels-measured message for the new device's levels follows.
 *
 * A QoS message is posted when load forces the level down (GStreamer's QoS
 * design names "switch to lower quality processing" as the long-term answer to
 * lateness): quality = 1000000 * level / (num-levels - 1), processed = frames,
 * dropped = 0. The base class's own QoS (dropping buffers) stays off.
 *
 * LibTorch and OpenBLAS threads are process-wide: #GstDofaClassify:threads is
 * applied in the streaming thread and the last element to apply it wins.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdofaclassify.h"

#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gstdofameta.h"
#include "lib/dofa/error.h"
#include "lib/dofa/model.h"
#include "lib/dofa/runner.h"
#include "lib/dofa/system_info.h"
#include "lib/dofa/rtm.h"

GST_DEBUG_CATEGORY_STATIC (gst_dofa_classify_debug);
#define GST_CAT_DEFAULT gst_dofa_classify_debug

namespace {

enum Device { DEVICE_CPU, DEVICE_CUDA };

constexpr double kDefaultLatencyMs = 0.0;
constexpr gint kDefaultWindow = dofa::kRtmDefaultWindow;
constexpr guint kDefaultTopK = 5;
constexpr guint kDefaultStatsInterval = 100;

// Property values, set from any thread under the settings lock and read once
// per frame as a snapshot (the volume / colordetect pattern).
struct Settings {
  std::string model;        // "" = the built-in model
  std::string level_table;  // "" = luts/<model>-<device>.json
  Device device = DEVICE_CPU;
  // latency-ms, accuracy-min, level, policy, window, group: what the runtime manager reads.
  dofa::RtmSettings rtm;
  gint threads = 1;
  guint top_k = kDefaultTopK;
  guint inference_interval = 1;
  bool post_messages = true;
  guint stats_interval = kDefaultStatsInterval;
  bool latency_report = false;
};

// A Model with its Runner and runtime manager, ready to classify: what start()
// builds, and what a device change builds in the background.
struct Engine {
  std::shared_ptr<const dofa::Model> model;
  std::unique_ptr<dofa::Runner> runner;
  std::unique_ptr<dofa::Rtm> rtm;
  dofa::RtmSettings decided_with;  // settings of the last decision
};

// What the streaming side owns between start() and stop().
struct State : Engine {
  std::chrono::steady_clock::time_point started;
  GstVideoInfo info;
  bool have_info = false;
  dofa::PixelFormat format = dofa::PixelFormat::RGB;
  gint applied_threads = 0;
  guint64 frames = 0;
  guint64 classified = 0;
  GstClockTime last_reported_latency = GST_CLOCK_TIME_NONE;
  // Last result, carried (stale) by frames skipped by inference-interval.
  dofa::Classification last;
  bool have_last = false;
};

}  // namespace

struct _GstDofaClassify {
  GstBaseTransform parent;
  // Guards settings and the read-only properties below. A lock of their own,
  // apart from the object lock (as gst-plugins-rs elements keep Settings), and
  // a std::mutex, whose ordering ThreadSanitizer sees (GMutex's futexes it cannot).
  std::mutex *lock;
  Settings *settings;
  State *state;
  // The last Model loaded, kept past stop() so that READY <-> PAUSED cycles
  // find it in the process-wide cache instead of loading it again.
  std::shared_ptr<const dofa::Model> *kept_model;
  // A device change while running: `preparer` builds the new device's Engine
  // and leaves it in `pending`, which the streaming thread adopts on its next frame.
  std::thread *preparer;
  Engine *pending;
  Device running;  // the device the streaming thread classifies on (settings lock)
  // Read-only properties, written by the streaming thread under the settings lock.
  gint current_level;
  gint num_levels;
  gdouble expected_accuracy;
  gdouble latency_avg_ms;
  gchar *available_devices;
};

enum {
  PROP_0,
  PROP_MODEL,
  PROP_LEVEL_TABLE,
  PROP_DEVICE,
  PROP_LATENCY_MS,
  PROP_ACCURACY_MIN,
  PROP_LEVEL,
  PROP_POLICY,
  PROP_WINDOW,
  PROP_GROUP,
  PROP_THREADS,
  PROP_TOP_K,
  PROP_INFERENCE_INTERVAL,
  PROP_POST_MESSAGES,
  PROP_STATS_INTERVAL,
  PROP_LATENCY_REPORT,
  PROP_CURRENT_LEVEL,
  PROP_NUM_LEVELS,
  PROP_EXPECTED_ACCURACY,
  PROP_LATENCY_AVG_MS,
  PROP_AVAILABLE_DEVICES,
};

// What gst-inspect-1.0 shows: what the element does, launch lines and every message field.
static const char kDescription[] =
    "Classifies frames with the most accurate level (sub-network of a once-for-all supernet) that keeps the "
    "time spent on a frame within latency-ms, switching levels frame by frame as load and settings change.\n"
    "Every buffer gets a GstDofaClassificationMeta (gstreamer-dofa-1.0), a GstCustomMeta \"DofaClassification\" "
    "with the same fields (class-id, label, confidence, top-ids, top-scores, level, expected-accuracy, pre-ms, "
    "infer-ms, stale, roi-id) and a full-frame GstVideoRegionOfInterestMeta (id -1) with a \"classification\" "
    "param (label, confidence, label_id, level, model_name).\n"
    "Examples:\n"
    "  gst-launch-1.0 videotestsrc num-buffers=100 ! videoconvert ! dofaclassify latency-ms=5 ! fakesink\n"
    "  gst-launch-1.0 -m videotestsrc ! videoconvert ! dofaclassify latency-ms=20 accuracy-min=85 ! fakesink\n"
    "  gst-launch-1.0 videotestsrc ! videoconvert ! dofaclassify level=0 ! fakesink   (fixed level, RTM off)\n"
    "Element messages (post-messages=false turns them off):\n"
    "  dofa-level-changed: old-level, new-level (gint), reason (string: target, accuracy-min, policy, automatic, "
    "fixed, load, qos, group, unreachable), target-ms, measured-ms, expected-accuracy (gdouble), running-time (guint64)\n"
    "  dofa-stats (every stats-interval frames): level (gint), frames, switches (guint64), fps, pre-p50-ms, "
    "pre-p90-ms, infer-p50-ms, infer-p90-ms (gdouble)\n"
    "  dofa-levels-measured (at start): num-levels (gint), measured-ms, table-p90-ms, accuracy (arrays of gdouble)\n"
    "  dofa-target-unreachable (once per episode): target-ms, fastest-ms (gdouble), accuracy-conflict (gboolean)\n"
    "  dofa-device-refused: requested, device, reason (string)\n"
    "  dofa-device-changed (a device set while playing, on its first frame): old-device, new-device (string), "
    "num-levels, level (gint)\n"
    "A QoS message (quality = 1000000 * level / (num-levels - 1), dropped 0) is posted when load forces the "
    "level down.";

// NV12 first: videoconvert picks the first, and it is the cheapest to preprocess.
#define VIDEO_FORMATS "{ NV12, I420, GRAY8, RGB, BGR, RGBx, BGRx, RGBA, BGRA }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

#define gst_dofa_classify_parent_class parent_class
G_DEFINE_TYPE (GstDofaClassify, gst_dofa_classify, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (dofaclassify, "dofaclassify", GST_RANK_NONE, GST_TYPE_DOFA_CLASSIFY);

GType
gst_dofa_device_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {DEVICE_CPU, "CPU", "cpu"},
    {DEVICE_CUDA, "CUDA GPU (needs a CUDA build of LibTorch)", "cuda"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDofaDevice", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

GType
gst_dofa_policy_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    {(gint) dofa::RtmPolicy::lut, "Look-up table: jump to the most accurate level predicted to fit", "lut"},
    {(gint) dofa::RtmPolicy::reactive, "Reactive: one level per window, with hysteresis (the paper's)", "reactive"},
    {0, NULL, NULL},
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstDofaPolicy", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* --- helpers -------------------------------------------------------------- */

static void
lock_settings (GstDofaClassify * self)
{
  self->lock->lock ();
}

static void
unlock_settings (GstDofaClassify * self)
{
  self->lock->unlock ();
}

static bool
same (const dofa::RtmSettings & a, const dofa::RtmSettings & b)
{
  return a.target_ms == b.target_ms && a.accuracy_min == b.accuracy_min && a.policy == b.policy &&
      a.window == b.window && a.fixed_level == b.fixed_level && a.group == b.group;
}

static const char *
device_name (Device d)
{
  return d == DEVICE_CUDA ? "cuda" : "cpu";
}

static bool
cuda_available ()
{
  static const bool cuda = dofa::system_info ().cuda;
  return cuda;
}

static bool
format_of (GstVideoFormat f, dofa::PixelFormat * out)
{
  switch (f) {
    case GST_VIDEO_FORMAT_RGB: *out = dofa::PixelFormat::RGB; return true;
    case GST_VIDEO_FORMAT_BGR: *out = dofa::PixelFormat::BGR; return true;
    case GST_VIDEO_FORMAT_RGBx: *out = dofa::PixelFormat::RGBx; return true;
    case GST_VIDEO_FORMAT_BGRx: *out = dofa::PixelFormat::BGRx; return true;
    case GST_VIDEO_FORMAT_RGBA: *out = dofa::PixelFormat::RGBA; return true;
    case GST_VIDEO_FORMAT_BGRA: *out = dofa::PixelFormat::BGRA; return true;
    case GST_VIDEO_FORMAT_GRAY8: *out = dofa::PixelFormat::Gray8; return true;
    case GST_VIDEO_FORMAT_NV12: *out = dofa::PixelFormat::NV12; return true;
    case GST_VIDEO_FORMAT_I420: *out = dofa::PixelFormat::I420; return true;
    default: return false;
  }
}

static void
post (GstDofaClassify * self, bool allowed, GstStructure * s)
{
  if (!allowed) {
    gst_structure_free (s);
    return;
  }
  gst_element_post_message (GST_ELEMENT (self), gst_message_new_element (GST_OBJECT (self), s));
}

static GValue
double_array (const std::vector<double> &xs)
{
  GValue arr = G_VALUE_INIT, v = G_VALUE_INIT;
  gst_value_array_init (&arr, xs.size ());
  for (double x : xs) {
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, x);
    gst_value_array_append_and_take_value (&arr, &v);
  }
  return arr;
}

/* --- properties ----------------------------------------------------------- */

static void prepare_device (GstDofaClassify * self);

static void
gst_dofa_classify_set_property (GObject * object, guint prop_id, const GValue * value, GParamSpec * pspec)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (object);
  Settings &s = *self->settings;
  bool refuse_device = false, change_device = false;

  lock_settings (self);
  switch (prop_id) {
    case PROP_MODEL:
      s.model = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_LEVEL_TABLE:
      s.level_table = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_DEVICE:{
      Device d = (Device) g_value_get_enum (value);
      // A running element keeps a device it can use; another is prepared in the background.
      if (d == DEVICE_CUDA && !cuda_available () && self->state)
        refuse_device = true;
      else {
        change_device = self->state && d != s.device;
        s.device = d;
      }
      break;
    }
    case PROP_LATENCY_MS:
      s.rtm.target_ms = g_value_get_double (value);
      break;
    case PROP_ACCURACY_MIN:
      s.rtm.accuracy_min = g_value_get_double (value);
      break;
    case PROP_LEVEL:{
      gint level = g_value_get_int (value);
      if (self->num_levels > 0 && level >= self->num_levels) {
        GST_WARNING_OBJECT (self, "level %d out of range -1..%d (num-levels %d): automatic", level,
            self->num_levels - 1, self->num_levels);
        level = -1;
      }
      s.rtm.fixed_level = level;
      break;
    }
    case PROP_POLICY:
      s.rtm.policy = (dofa::RtmPolicy) g_value_get_enum (value);
      break;
    case PROP_WINDOW:
      s.rtm.window = g_value_get_int (value);
      break;
    case PROP_GROUP:
      s.rtm.group = g_value_get_string (value) ? g_value_get_string (value) : "";
      break;
    case PROP_THREADS:
      s.threads = g_value_get_int (value);
      break;
    case PROP_TOP_K:
      s.top_k = g_value_get_uint (value);
      break;
    case PROP_INFERENCE_INTERVAL:
      s.inference_interval = g_value_get_uint (value);
      break;
    case PROP_POST_MESSAGES:
      s.post_messages = g_value_get_boolean (value);
      break;
    case PROP_STATS_INTERVAL:
      s.stats_interval = g_value_get_uint (value);
      break;
    case PROP_LATENCY_REPORT:
      s.latency_report = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  bool post_messages = s.post_messages;
  const char *kept = device_name (s.device);
  unlock_settings (self);

  if (refuse_device) {
    GST_WARNING_OBJECT (self, "device=cuda refused while running: CUDA is not available; keeping %s", kept);
    post (self, post_messages, gst_structure_new ("dofa-device-refused", "requested", G_TYPE_STRING, "cuda",
            "device", G_TYPE_STRING, kept, "reason", G_TYPE_STRING,
            ("CUDA is not available: " + dofa::cuda_unavailable_reason ()).c_str (), NULL));
  }
  if (change_device)
    prepare_device (self);
}

static void
gst_dofa_classify_get_property (GObject * object, guint prop_id, GValue * value, GParamSpec * pspec)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (object);
  const Settings &s = *self->settings;

  lock_settings (self);
  switch (prop_id) {
    case PROP_MODEL:
      g_value_set_string (value, s.model.empty ()? NULL : s.model.c_str ());
      break;
    case PROP_LEVEL_TABLE:
      g_value_set_string (value, s.level_table.empty ()? NULL : s.level_table.c_str ());
      break;
    case PROP_DEVICE:
      g_value_set_enum (value, s.device);
      break;
    case PROP_LATENCY_MS:
      g_value_set_double (value, s.rtm.target_ms);
      break;
    case PROP_ACCURACY_MIN:
      g_value_set_double (value, s.rtm.accuracy_min);
      break;
    case PROP_LEVEL:
      g_value_set_int (value, s.rtm.fixed_level);
      break;
    case PROP_POLICY:
      g_value_set_enum (value, (gint) s.rtm.policy);
      break;
    case PROP_WINDOW:
      g_value_set_int (value, s.rtm.window);
      break;
    case PROP_GROUP:
      g_value_set_string (value, s.rtm.group.empty ()? NULL : s.rtm.group.c_str ());
      break;
    case PROP_THREADS:
      g_value_set_int (value, s.threads);
      break;
    case PROP_TOP_K:
      g_value_set_uint (value, s.top_k);
      break;
    case PROP_INFERENCE_INTERVAL:
      g_value_set_uint (value, s.inference_interval);
      break;
    case PROP_POST_MESSAGES:
      g_value_set_boolean (value, s.post_messages);
      break;
    case PROP_STATS_INTERVAL:
      g_value_set_uint (value, s.stats_interval);
      break;
    case PROP_LATENCY_REPORT:
      g_value_set_boolean (value, s.latency_report);
      break;
    case PROP_CURRENT_LEVEL:
      g_value_set_int (value, self->current_level);
      break;
    case PROP_NUM_LEVELS:
      g_value_set_int (value, self->num_levels);
      break;
    case PROP_EXPECTED_ACCURACY:
      g_value_set_double (value, self->expected_accuracy);
      break;
    case PROP_LATENCY_AVG_MS:
      g_value_set_double (value, self->latency_avg_ms);
      break;
    case PROP_AVAILABLE_DEVICES:
      g_value_set_string (value, self->available_devices);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  unlock_settings (self);
}

/* --- lifecycle ------------------------------------------------------------ */

// The Model of the settings' (model, level table, device), a Runner on it and
// a runtime manager over its levels, at the level the settings ask for. Throws.
static Engine
build_engine (const Settings & s)
{
  Engine e;
  dofa::ModelOptions o;
  o.spec = s.model.empty ()? dofa::kBuiltinModel : s.model;
  o.level_table = s.level_table;
  o.device = device_name (s.device);
  e.model = dofa::Model::get (o);
  e.runner = std::make_unique<dofa::Runner> (e.model);
  const dofa::Model &m = *e.model;
  const int n = m.num_levels ();
  // The RTM prefers the latency measured at load on this machine to the table's.
  std::vector<dofa::RtmLevel> levels;
  for (int i = 0; i < n; ++i) {
    const dofa::LevelInfo &li = m.level (i);
    double ms = li.measured_ms > 0 ? li.measured_ms : li.latency_p90_ms;
    // Without a measured accuracy the table's order (fastest to most accurate) stands in.
    levels.push_back ({li.top1 >= 0 ? li.top1 : 100.0 * (i + 1) / n, ms > 0 ? ms : 1.0});
  }
  e.decided_with = s.rtm;
  e.rtm = std::make_unique<dofa::Rtm> (levels, e.decided_with);
  e.runner->switch_to (e.rtm->decide (e.decided_with).level);
  return e;
}

static void
post_levels_measured (GstDofaClassify * self, bool allowed, const dofa::Model & m)
{
  const int n = m.num_levels ();
  std::vector<double> measured, table, accuracy;
  for (int i = 0; i < n; ++i) {
    measured.push_back (m.level (i).measured_ms);
    table.push_back (m.level (i).latency_p90_ms);
    accuracy.push_back (m.level (i).top1);
  }
  GstStructure *msg = gst_structure_new ("dofa-levels-measured", "num-levels", G_TYPE_INT, n, NULL);
  GValue a = double_array (measured), b = double_array (table), c = double_array (accuracy);
  gst_structure_take_value (msg, "measured-ms", &a);
  gst_structure_take_value (msg, "table-p90-ms", &b);
  gst_structure_take_value (msg, "accuracy", &c);
  post (self, allowed, msg);
}

static void
join_preparer (GstDofaClassify * self)
{
  lock_settings (self);
  std::thread *t = self->preparer;
  self->preparer = NULL;
  unlock_settings (self);
  if (t) {
    t->join ();
    delete t;
  }
}

// Builds the Engine of the device just set while the stream runs on the old
// one; on failure the old device stays and dofa-device-refused says why.
static void
prepare_device (GstDofaClassify * self)
{
  join_preparer (self);  // one at a time; the last setting wins
  lock_settings (self);
  const Settings s = *self->settings;
  delete self->pending;
  self->pending = NULL;
  self->preparer = new std::thread ([self, s] {
    try {
      auto e = std::make_unique<Engine> (build_engine (s));
      lock_settings (self);
      if (self->state && self->settings->device == s.device) {
        delete self->pending;
        self->pending = e.release ();
      }
      unlock_settings (self);
    } catch (const std::exception &ex) {
      lock_settings (self);
      const Device kept = self->running;
      if (self->settings->device == s.device)
        self->settings->device = kept;
      unlock_settings (self);
      GST_WARNING_OBJECT (self, "device=%s refused: %s; keeping %s", device_name (s.device), ex.what (),
          device_name (kept));
      post (self, s.post_messages, gst_structure_new ("dofa-device-refused", "requested", G_TYPE_STRING,
              device_name (s.device), "device", G_TYPE_STRING, device_name (kept), "reason", G_TYPE_STRING, ex.what (),
              NULL));
    }
  });
  unlock_settings (self);
}

// The streaming thread takes over an Engine prepared for another device.
static void
adopt (GstDofaClassify * self, State & st, std::unique_ptr<Engine> e, const Settings & s)
{
  const std::string old_device = st.model->device ();
  static_cast<Engine &> (st) = std::move (*e);
  *self->kept_model = st.model;
  const dofa::Model &m = *st.model;
  const int level = st.runner->level ();
  lock_settings (self);
  self->running = m.device () == "cuda" ? DEVICE_CUDA : DEVICE_CPU;
  self->num_levels = m.num_levels ();
  self->current_level = level;
  self->expected_accuracy = m.level (level).top1;
  unlock_settings (self);
  GST_INFO_OBJECT (self, "device %s -> %s: %d levels, level %d", old_device.c_str (), m.device ().c_str (),
      m.num_levels (), level);
  post (self, s.post_messages, gst_structure_new ("dofa-device-changed", "old-device", G_TYPE_STRING,
          old_device.c_str (), "new-device", G_TYPE_STRING, m.device ().c_str (), "num-levels", G_TYPE_INT,
          m.num_levels (), "level", G_TYPE_INT, level, NULL));
  post_levels_measured (self, s.post_messages, m);
}

static gboolean
gst_dofa_classify_start (GstBaseTransform * trans)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (trans);

  lock_settings (self);
  Settings s = *self->settings;
  unlock_settings (self);

  if (s.device == DEVICE_CUDA && !cuda_available ()) {
    GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("device=cuda is not available"),
        ("%s; use device=cpu", dofa::cuda_unavailable_reason ().c_str ()));
    return FALSE;
  }

  auto state = std::make_unique<State> ();
  const std::string model = s.model.empty ()? dofa::kBuiltinModel : s.model;
  try {
    dofa::set_threads (s.threads);
    static_cast<Engine &> (*state) = build_engine (s);
    *self->kept_model = state->model;
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_READ, ("Could not load model '%s'", model.c_str ()), ("%s", e.what ()));
    return FALSE;
  }
  const dofa::Model &m = *state->model;
  const int n = m.num_levels ();
  state->started = std::chrono::steady_clock::now ();

  lock_settings (self);
  self->running = s.device;
  self->num_levels = n;
  if (self->settings->rtm.fixed_level >= n) {
    GST_WARNING_OBJECT (self, "level %d out of range -1..%d (num-levels %d): automatic", self->settings->rtm.fixed_level,
        n - 1, n);
    self->settings->rtm.fixed_level = -1;
  }
  self->current_level = state->runner->level ();
  self->expected_accuracy = m.level (self->current_level).top1;
  self->state = state.release ();
  unlock_settings (self);

  GST_INFO_OBJECT (self, "model %s on %s: %d levels", m.spec ().name.c_str (), m.device ().c_str (), n);
  post_levels_measured (self, s.post_messages, m);
  return TRUE;
}

static gboolean
gst_dofa_classify_stop (GstBaseTransform * trans)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (trans);

  join_preparer (self);
  lock_settings (self);
  State *state = self->state;
  self->state = NULL;
  delete self->pending;
  self->pending = NULL;
  unlock_settings (self);
  // The Model stays cached while another element holds it.
  delete state;
  return TRUE;
}

static gboolean
gst_dofa_classify_set_caps (GstBaseTransform * trans, GstCaps * incaps, GstCaps * outcaps)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (trans);
  State *st = self->state;
  (void) outcaps;

  if (!st)
    return FALSE;
  if (!gst_video_info_from_caps (&st->info, incaps) || !format_of (GST_VIDEO_INFO_FORMAT (&st->info), &st->format)) {
    GST_ERROR_OBJECT (self, "unsupported caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  st->have_info = true;
  return TRUE;
}

/* --- per frame ------------------------------------------------------------ */

static void
gst_dofa_classify_before_transform (GstBaseTransform * trans, GstBuffer * buffer)
{
  GstClockTime ts = gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buffer));
  // Controllable properties (latency-ms) follow their control sources per frame.
  if (GST_CLOCK_TIME_IS_VALID (ts))
    gst_object_sync_values (GST_OBJECT (trans), ts);
}

static dofa::ImageView
image_of (const GstVideoFrame & f, dofa::PixelFormat format)
{
  dofa::ImageView v;
  v.data = (const uint8_t *) GST_VIDEO_FRAME_PLANE_DATA (&f, 0);
  v.stride = GST_VIDEO_FRAME_PLANE_STRIDE (&f, 0);
  v.width = GST_VIDEO_FRAME_WIDTH (&f);
  v.height = GST_VIDEO_FRAME_HEIGHT (&f);
  v.format = format;
  for (guint p = 1; p < GST_VIDEO_FRAME_N_PLANES (&f) && p < 3; ++p) {
    v.planes[p - 1] = (const uint8_t *) GST_VIDEO_FRAME_PLANE_DATA (&f, p);
    v.plane_strides[p - 1] = GST_VIDEO_FRAME_PLANE_STRIDE (&f, p);
  }
  return v;
}

static void
attach (GstDofaClassify * self, GstBuffer * buf, const dofa::Classification & c, bool stale, double pre_ms)
{
  State &st = *self->state;
  const dofa::Model &m = *st.model;
  GstDofaClassificationMeta *meta = gst_buffer_add_dofa_classification_meta (buf);
  meta->class_id = c.class_id;
  gst_dofa_classification_meta_set_label (meta, m.spec ().labels[c.class_id].c_str ());
  meta->confidence = c.confidence;
  meta->n_top = std::min<guint> (c.top_ids.size (), GST_DOFA_MAX_TOP_K);
  for (guint i = 0; i < meta->n_top; ++i) {
    meta->top_ids[i] = c.top_ids[i];
    meta->top_scores[i] = c.top_scores[i];
  }
  meta->level = c.level;
  meta->expected_accuracy = m.level (c.level).top1;
  meta->pre_ms = pre_ms;
  meta->infer_ms = stale ? 0.0 : c.infer_ms;
  meta->stale = stale;
  meta->roi_id = GST_DOFA_FULL_FRAME_ROI_ID;
  gst_dofa_classification_meta_mirror (buf, meta, GST_VIDEO_INFO_WIDTH (&st.info), GST_VIDEO_INFO_HEIGHT (&st.info),
      m.spec ().name.c_str ());
}

// Posts what a decision asks for: the level change, a QoS message when load
// forced it down, the start of an unreachable or accuracy-conflict episode; and
// publishes the read-only properties.
static void
report (GstDofaClassify * self, const Settings & s, const dofa::RtmDecision & d, int from_level, GstBuffer * buf,
    GstClockTime running)
{
  State &st = *self->state;
  const dofa::Model &m = *st.model;
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);

  st.runner->switch_to (d.level);
  lock_settings (self);
  self->current_level = d.level;
  self->expected_accuracy = m.level (d.level).top1;
  self->latency_avg_ms = d.measured_ms;
  unlock_settings (self);

  if (d.level != from_level) {
    GST_DEBUG_OBJECT (self, "level %d -> %d (%s)%s%s", from_level, d.level, dofa::to_string (d.reason),
        d.group_round.empty () ? "" : ": ", d.group_round.c_str ());
    post (self, s.post_messages, gst_structure_new ("dofa-level-changed",
            "old-level", G_TYPE_INT, from_level, "new-level", G_TYPE_INT, d.level,
            "reason", G_TYPE_STRING, dofa::to_string (d.reason), "target-ms", G_TYPE_DOUBLE, d.target_ms,
            "measured-ms", G_TYPE_DOUBLE, d.measured_ms, "expected-accuracy", G_TYPE_DOUBLE, m.level (d.level).top1,
            "running-time", G_TYPE_UINT64, (guint64) running, NULL));
    if (d.forced_by_load && s.post_messages) {
      const int n = m.num_levels ();
      GstMessage *q = gst_message_new_qos (GST_OBJECT (self), FALSE, running,
          gst_segment_to_stream_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf)),
          GST_BUFFER_PTS (buf), GST_BUFFER_DURATION (buf));
      gst_message_set_qos_values (q, 0, 1.0, n > 1 ? (gint) (1000000.0 * d.level / (n - 1)) : 1000000);
      gst_message_set_qos_stats (q, GST_FORMAT_BUFFERS, st.classified, 0);
      gst_element_post_message (GST_ELEMENT (self), q);
    }
  }
  if (d.unreachable_started || d.conflict_started)
    post (self, s.post_messages, gst_structure_new ("dofa-target-unreachable",
            "target-ms", G_TYPE_DOUBLE, d.target_ms,
            "fastest-ms", G_TYPE_DOUBLE, st.rtm->levels ().front ().latency_p90_ms,
            "accuracy-conflict", G_TYPE_BOOLEAN, (gboolean) (d.conflict_started && !d.unreachable_started), NULL));
}

static GstFlowReturn classify_frame (GstDofaClassify * self, GstBuffer * buf);

static GstFlowReturn
gst_dofa_classify_transform_ip (GstBaseTransform * trans, GstBuffer * buf)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (trans);
  // No C++ exception may cross into GStreamer's C frames.
  try {
    return classify_frame (self, buf);
  } catch (const std::exception &e) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Classification failed"), ("%s", e.what ()));
    return GST_FLOW_ERROR;
  }
}

static GstFlowReturn
classify_frame (GstDofaClassify * self, GstBuffer * buf)
{
  GstBaseTransform *trans = GST_BASE_TRANSFORM (self);
  State *st = self->state;
  const auto t0 = std::chrono::steady_clock::now ();

  if (!st || !st->have_info) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, (NULL), ("no caps before the first buffer"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  lock_settings (self);
  const Settings s = *self->settings;
  std::unique_ptr<Engine> pending (self->pending);    // another device, ready
  self->pending = NULL;
  unlock_settings (self);
  if (pending)
    adopt (self, *st, std::move (pending), s);

  if (s.threads != st->applied_threads) {
    dofa::set_threads (s.threads);      // process-wide; applied in this (streaming) thread
    st->applied_threads = s.threads;
  }
  const guint64 frame = st->frames++;
  // inference-interval: classify every Nth frame; the others carry the last result, marked stale.
  if (st->have_last && s.inference_interval > 1 && frame % s.inference_interval != 0) {
    attach (self, buf, st->last, true, 0.0);
    return GST_FLOW_OK;
  }

  // A changed setting (latency-ms, level, ...) acts on this very frame.
  const dofa::RtmSettings &rs = s.rtm;
  const GstClockTime running = gst_segment_to_running_time (&trans->segment, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  if (!same (rs, st->decided_with)) {
    const int before = st->runner->level ();
    report (self, s, st->rtm->decide (rs), before, buf, running);
    st->decided_with = rs;
  }

  GstVideoFrame vframe;
  if (!gst_video_frame_map (&vframe, &st->info, buf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, (NULL), ("could not map the frame for reading"));
    return GST_FLOW_ERROR;
  }
  try {
    // Kept as the result the stale frames of inference-interval carry.
    st->last = st->runner->classify (image_of (vframe, st->format), s.top_k);
  } catch (...) {
    gst_video_frame_unmap (&vframe);
    throw;
  }
  gst_video_frame_unmap (&vframe);
  const dofa::Classification &c = st->last;
  st->have_last = true;
  st->classified++;

  // pre_ms: the frame's time apart from inference (and from the one-off warm-up of
  // the first frame in a thread). The meta can only carry it up to its own
  // attachment; the runtime manager gets it with the meta included.
  auto pre_ms_now = [&] {
    const double ms = std::chrono::duration < double, std::milli > (std::chrono::steady_clock::now () - t0).count ();
    return std::max (0.0, ms - c.infer_ms - c.warm_ms);
  };
  attach (self, buf, c, false, pre_ms_now ());
  const double pre_ms = pre_ms_now ();

  // The stream's first frame carries one-off costs (the metas' registration, the first
  // mappings; 0.2-0.6 ms where later frames take 0.03): kept out of the runtime manager's
  // windows, where it would count as load.
  if (st->classified > 1)
    report (self, s, st->rtm->update ({c.level, pre_ms, c.infer_ms}, rs), c.level, buf, running);

  if (s.stats_interval > 0 && st->classified % s.stats_interval == 0) {
    const dofa::RtmStats fs = st->rtm->stats ();
    const double secs = std::chrono::duration < double >(std::chrono::steady_clock::now () - st->started).count ();
    post (self, s.post_messages, gst_structure_new ("dofa-stats",
            "level", G_TYPE_INT, c.level, "frames", G_TYPE_UINT64, st->frames,
            "switches", G_TYPE_UINT64, (guint64) fs.switches, "fps", G_TYPE_DOUBLE, secs > 0 ? st->classified / secs : 0.0,
            "pre-p50-ms", G_TYPE_DOUBLE, fs.pre_p50_ms, "pre-p90-ms", G_TYPE_DOUBLE, fs.pre_p90_ms,
            "infer-p50-ms", G_TYPE_DOUBLE, fs.infer_p50_ms, "infer-p90-ms", G_TYPE_DOUBLE, fs.infer_p90_ms, NULL));
  }

  if (s.latency_report) {
    // Report only real moves: a new target, or a p90 that moved by more than 25 % (NNStreamer's threshold).
    const double ms = rs.target_ms > 0 ? rs.target_ms : st->rtm->levels ().back ().latency_p90_ms;
    const GstClockTime lat = (GstClockTime) (ms * GST_MSECOND);
    const GstClockTime prev = st->last_reported_latency;
    if (!GST_CLOCK_TIME_IS_VALID (prev) || (rs.target_ms > 0 ? lat != prev : (lat > prev * 1.25 || lat < prev * 0.75))) {
      st->last_reported_latency = lat;
      if (GST_CLOCK_TIME_IS_VALID (prev))
        gst_element_post_message (GST_ELEMENT (self), gst_message_new_latency (GST_OBJECT (self)));
    }
  }
  return GST_FLOW_OK;
}

/* --- events and queries --------------------------------------------------- */

static gboolean
gst_dofa_classify_src_event (GstBaseTransform * trans, GstEvent * event)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (trans);
  if (GST_EVENT_TYPE (event) == GST_EVENT_QOS && self->state) {
    GstQOSType type;
    gdouble proportion;
    GstClockTimeDiff diff;
    GstClockTime ts;
    gst_event_parse_qos (event, &type, &proportion, &diff, &ts);
    // Upstream QoS tightens the target: T_eff = min(T, frame duration / proportion).
    const GstVideoInfo &info = self->state->info;
    const double frame_ms = GST_VIDEO_INFO_FPS_N (&info) > 0 ?
        1000.0 * GST_VIDEO_INFO_FPS_D (&info) / GST_VIDEO_INFO_FPS_N (&info) : 0.0;
    if (self->state->rtm)
      self->state->rtm->on_qos (proportion, frame_ms);
  }
  return GST_BASE_TRANSFORM_CLASS (parent_class)->src_event (trans, event);
}

static gboolean
gst_dofa_classify_query (GstBaseTransform * trans, GstPadDirection direction, GstQuery * query)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (trans);
  gboolean res = GST_BASE_TRANSFORM_CLASS (parent_class)->query (trans, direction, query);

  if (res && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY && direction == GST_PAD_SRC) {
    lock_settings (self);
    const bool report = self->settings->latency_report;
    double ms = self->settings->rtm.target_ms;
    unlock_settings (self);
    if (report) {
      if (ms <= 0 && self->state && self->state->rtm)
        ms = self->state->rtm->levels ().back ().latency_p90_ms;
      gboolean live;
      GstClockTime min, max;
      gst_query_parse_latency (query, &live, &min, &max);
      const GstClockTime own = (GstClockTime) (ms * GST_MSECOND);
      min += own;
      if (GST_CLOCK_TIME_IS_VALID (max))
        max += own;
      gst_query_set_latency (query, live, min, max);
    }
  }
  return res;
}

/* --- class ---------------------------------------------------------------- */

static void
gst_dofa_classify_finalize (GObject * object)
{
  GstDofaClassify *self = GST_DOFA_CLASSIFY (object);
  join_preparer (self);
  delete self->pending;
  delete self->state;
  delete self->settings;
  delete self->kept_model;
  delete self->lock;
  g_free (self->available_devices);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_dofa_classify_init (GstDofaClassify * self)
{
  self->lock = new std::mutex ();
  self->settings = new Settings ();
  self->state = NULL;
  self->kept_model = new std::shared_ptr<const dofa::Model> ();
  self->preparer = NULL;
  self->pending = NULL;
  self->running = DEVICE_CPU;
  self->current_level = -1;
  self->num_levels = 0;
  self->expected_accuracy = -1.0;
  self->latency_avg_ms = 0.0;
  self->available_devices = g_strdup (cuda_available ()? "cpu,cuda" : "cpu");
  // Never passthrough: the buffer must be writable to carry the meta.
  gst_base_transform_set_passthrough (GST_BASE_TRANSFORM (self), FALSE);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
  gst_base_transform_set_qos_enabled (GST_BASE_TRANSFORM (self), FALSE);
}

static void
gst_dofa_classify_class_init (GstDofaClassifyClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  const GParamFlags ro = (GParamFlags) (G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  const GParamFlags ready = (GParamFlags) (rw | GST_PARAM_MUTABLE_READY);
  const GParamFlags playing = (GParamFlags) (rw | GST_PARAM_MUTABLE_PLAYING);

  gobject_class->set_property = gst_dofa_classify_set_property;
  gobject_class->get_property = gst_dofa_classify_get_property;
  gobject_class->finalize = gst_dofa_classify_finalize;

  g_object_class_install_property (gobject_class, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Built-in model name or supernet spec file (NULL = the built-in model)", NULL, ready));
  g_object_class_install_property (gobject_class, PROP_LEVEL_TABLE,
      g_param_spec_string ("level-table", "Level table",
          "Level table file (NULL = luts/<model>-<device>.json from the data path)", NULL, ready));
  g_object_class_install_property (gobject_class, PROP_DEVICE,
      g_param_spec_enum ("device", "Device", "Compute unit the levels run on", GST_TYPE_DOFA_DEVICE, DEVICE_CPU,
          (GParamFlags) (playing | GST_PARAM_CONDITIONALLY_AVAILABLE)));
  g_object_class_install_property (gobject_class, PROP_LATENCY_MS,
      g_param_spec_double ("latency-ms", "Latency target",
          "Time the element may spend on a frame, ms (0 = no target: the most accurate level)", 0.0, 10000.0,
          kDefaultLatencyMs, (GParamFlags) (playing | GST_PARAM_CONTROLLABLE)));
  g_object_class_install_property (gobject_class, PROP_ACCURACY_MIN,
      g_param_spec_double ("accuracy-min", "Minimum accuracy",
          "Expected top-1 floor in percent; with latency-ms = 0 the fastest level that meets it (0 = none)",
          0.0, 100.0, 0.0, playing));
  g_object_class_install_property (gobject_class, PROP_LEVEL,
      g_param_spec_int ("level", "Level",
          "Fixed level, 0 = fastest (-1 = automatic: the runtime manager chooses)", -1, 63, -1, playing));
  g_object_class_install_property (gobject_class, PROP_POLICY,
      g_param_spec_enum ("policy", "Policy", "Runtime manager policy", GST_TYPE_DOFA_POLICY,
          (gint) dofa::RtmPolicy::lut, playing));
  g_object_class_install_property (gobject_class, PROP_WINDOW,
      g_param_spec_int ("window", "Window", "Frames in the runtime manager's sliding window", 1, 1000,
          kDefaultWindow, playing));
  g_object_class_install_property (gobject_class, PROP_GROUP,
      g_param_spec_string ("group", "Group",
          "Elements with the same group share one coordinator that sets their levels jointly (NULL = none)", NULL,
          ready));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads",
          "LibTorch threads, applied in the streaming thread (process-wide: the last applied wins); "
          "levels on the CPU run their own kernels in the streaming thread alone", 1, 64, 1,
          playing));
  g_object_class_install_property (gobject_class, PROP_TOP_K,
      g_param_spec_uint ("top-k", "Top k", "Classes kept in the metadata, most probable first", 1,
          GST_DOFA_MAX_TOP_K, kDefaultTopK, playing));
  g_object_class_install_property (gobject_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint ("inference-interval", "Inference interval",
          "Classify every Nth frame; the others carry the last result marked stale", 1, 1000, 1, playing));
  g_object_class_install_property (gobject_class, PROP_POST_MESSAGES,
      g_param_spec_boolean ("post-messages", "Post messages", "Post the dofa-* element messages on the bus", TRUE,
          playing));
  g_object_class_install_property (gobject_class, PROP_STATS_INTERVAL,
      g_param_spec_uint ("stats-interval", "Stats interval",
          "Classified frames between dofa-stats messages (0 = none)", 0, 1000000, kDefaultStatsInterval, playing));
  g_object_class_install_property (gobject_class, PROP_LATENCY_REPORT,
      g_param_spec_boolean ("latency-report", "Latency report",
          "Add latency-ms (or the top level's p90 with no target) to latency queries and post LATENCY messages "
          "when it changes", FALSE, playing));
  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL,
      g_param_spec_int ("current-level", "Current level", "Level the next frame runs on (-1 before start)", -1, 63,
          -1, ro));
  g_object_class_install_property (gobject_class, PROP_NUM_LEVELS,
      g_param_spec_int ("num-levels", "Number of levels", "Levels of the loaded model (0 before start)", 0, 64, 0,
          ro));
  g_object_class_install_property (gobject_class, PROP_EXPECTED_ACCURACY,
      g_param_spec_double ("expected-accuracy", "Expected accuracy",
          "Top-1 in percent of the current level on test data (-1 = unknown)", -1.0, 100.0, -1.0, ro));
  g_object_class_install_property (gobject_class, PROP_LATENCY_AVG_MS,
      g_param_spec_double ("latency-avg-ms", "Average latency",
          "Mean time spent on a frame over the runtime manager's window, ms", 0.0, G_MAXDOUBLE, 0.0, ro));
  g_object_class_install_property (gobject_class, PROP_AVAILABLE_DEVICES,
      g_param_spec_string ("available-devices", "Available devices",
          "Comma-separated devices this build and machine can run on", "cpu", ro));

  gst_element_class_set_static_metadata (element_class, "Dynamic-OFA classifier", "Filter/Analyzer/Video",
      kDescription, "dofa developers");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR (gst_dofa_classify_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_dofa_classify_stop);
  trans_class->set_caps = GST_DEBUG_FUNCPTR (gst_dofa_classify_set_caps);
  trans_class->before_transform = GST_DEBUG_FUNCPTR (gst_dofa_classify_before_transform);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_dofa_classify_transform_ip);
  trans_class->src_event = GST_DEBUG_FUNCPTR (gst_dofa_classify_src_event);
  trans_class->query = GST_DEBUG_FUNCPTR (gst_dofa_classify_query);
  trans_class->passthrough_on_same_caps = FALSE;
  trans_class->transform_ip_on_passthrough = FALSE;

  gst_type_mark_as_plugin_api (GST_TYPE_DOFA_DEVICE, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_DOFA_POLICY, (GstPluginAPIFlags) 0);
  GST_DEBUG_CATEGORY_INIT (gst_dofa_classify_debug, "dofaclassify", 0, "Dynamic-OFA classifier");
}

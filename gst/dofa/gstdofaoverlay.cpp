/* GStreamer dofa: dofaoverlay
 *
 * SECTION:element-dofaoverlay
 * @title: dofaoverlay
 *
 * Draws the #GstDofaClassificationMeta of each frame onto it: the label and
 * confidence on the first line, the level, its expected top-1 and the time
 * the frame spent in dofaclassify (pre + infer) on the second; "(stale)" on
 * frames that carried the last result (#GstDofaClassify:inference-interval).
 * Frames without the meta pass unchanged. Text is white on a dark box, in the
 * top-left corner, scaled with the frame height (#GstDofaOverlay:font-scale
 * overrides it); NV12 and I420 are drawn on the luma plane.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc ! videoconvert ! dofaclassify latency-ms=5 ! dofaoverlay ! videoconvert ! autovideosink
 * gst-launch-1.0 videotestsrc num-buffers=30 ! dofaclassify ! dofaoverlay ! videoconvert ! pngenc ! multifilesink location=frame-%02d.png
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdofaoverlay.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

#include "gstdofameta.h"

GST_DEBUG_CATEGORY_STATIC (dofa_overlay_debug);
#define GST_CAT_DEFAULT dofa_overlay_debug

#define VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, RGBA, BGRA, GRAY8, NV12, I420 }"

enum { PROP_0, PROP_FONT_SCALE };

struct _GstDofaOverlay {
  GstVideoFilter parent;
  gdouble font_scale;  // 0 = from the frame height; GST_OBJECT_LOCK
};

G_DEFINE_TYPE (GstDofaOverlay, gst_dofa_overlay, GST_TYPE_VIDEO_FILTER);
GST_ELEMENT_REGISTER_DEFINE (dofaoverlay, "dofaoverlay", GST_RANK_NONE, GST_TYPE_DOFA_OVERLAY);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (VIDEO_FORMATS)));

/* The plane text is drawn on, as a Mat over the mapped frame: packed formats
 * whole, NV12 and I420 their luma plane. */
static cv::Mat
text_plane (GstVideoFrame * frame, cv::Scalar * white, cv::Scalar * dark)
{
  const GstVideoFormat f = GST_VIDEO_FRAME_FORMAT (frame);
  const int w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  const int components = GST_VIDEO_FORMAT_INFO_IS_YUV (frame->info.finfo) || f == GST_VIDEO_FORMAT_GRAY8 ? 1 :
      GST_VIDEO_FRAME_COMP_PSTRIDE (frame, 0);
  *white = cv::Scalar (255, 255, 255, 255);
  *dark = cv::Scalar (32, 32, 32, 255);
  return cv::Mat (h, w, CV_8UC (components), GST_VIDEO_FRAME_PLANE_DATA (frame, 0),
      GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0));
}

static GstFlowReturn
gst_dofa_overlay_transform_frame_ip (GstVideoFilter * filter, GstVideoFrame * frame)
{
  GstDofaOverlay *self = GST_DOFA_OVERLAY (filter);
  const GstDofaClassificationMeta *m = gst_buffer_get_dofa_classification_meta (frame->buffer);
  if (!m)
    return GST_FLOW_OK;

  GST_OBJECT_LOCK (self);
  double scale = self->font_scale;
  GST_OBJECT_UNLOCK (self);
  const int h = GST_VIDEO_FRAME_HEIGHT (frame);
  if (scale <= 0)
    scale = std::max (0.25, h / 720.0);  // Hershey simplex: ~22 px per unit

  char l1[160], l2[160];
  std::snprintf (l1, sizeof l1, "%s %.0f%%", m->label ? m->label : "?", 100.0 * m->confidence);
  std::snprintf (l2, sizeof l2, "L%d %.1f%% %.2f ms%s", m->level, m->expected_accuracy, m->pre_ms + m->infer_ms,
      m->stale ? " (stale)" : "");

  cv::Scalar white, dark;
  cv::Mat plane = text_plane (frame, &white, &dark);
  const int font = cv::FONT_HERSHEY_SIMPLEX, thick = std::max (1, int (scale * 1.5));
  int base = 0;
  const cv::Size s1 = cv::getTextSize (l1, font, scale, thick, &base), s2 = cv::getTextSize (l2, font, scale, thick, &base);
  const int pad = std::max (2, int (6 * scale)), line = s1.height + 2 * pad;
  const cv::Rect box (0, 0, std::min (plane.cols, std::max (s1.width, s2.width) + 2 * pad),
      std::min (plane.rows, 2 * line + pad));
  cv::rectangle (plane, box, dark, cv::FILLED);
  cv::putText (plane, l1, cv::Point (pad, pad + s1.height), font, scale, white, thick, cv::LINE_AA);
  cv::putText (plane, l2, cv::Point (pad, line + pad + s2.height), font, scale, white, thick, cv::LINE_AA);
  return GST_FLOW_OK;
}

static void
gst_dofa_overlay_set_property (GObject * object, guint id, const GValue * value, GParamSpec * pspec)
{
  GstDofaOverlay *self = GST_DOFA_OVERLAY (object);
  switch (id) {
    case PROP_FONT_SCALE:
      GST_OBJECT_LOCK (self);
      self->font_scale = g_value_get_double (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gst_dofa_overlay_get_property (GObject * object, guint id, GValue * value, GParamSpec * pspec)
{
  GstDofaOverlay *self = GST_DOFA_OVERLAY (object);
  switch (id) {
    case PROP_FONT_SCALE:
      GST_OBJECT_LOCK (self);
      g_value_set_double (value, self->font_scale);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  }
}

static void
gst_dofa_overlay_class_init (GstDofaOverlayClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS (klass);

  gobject_class->set_property = gst_dofa_overlay_set_property;
  gobject_class->get_property = gst_dofa_overlay_get_property;
  g_object_class_install_property (gobject_class, PROP_FONT_SCALE,
      g_param_spec_double ("font-scale", "Font scale",
          "Text size (1 = about 22 pixels high); 0 = from the frame height (1 at 720 lines, at least 0.25)", 0, 20,
          0, GParamFlags (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING)));

  gst_element_class_set_static_metadata (element_class, "Dofa classification overlay", "Filter/Effect/Video",
      "Draws the label, confidence, level and latency that dofaclassify attached onto the frame", "dofa");
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  filter_class->transform_frame_ip = GST_DEBUG_FUNCPTR (gst_dofa_overlay_transform_frame_ip);
  GST_DEBUG_CATEGORY_INIT (dofa_overlay_debug, "dofaoverlay", 0, "dofa classification overlay");
}

static void
gst_dofa_overlay_init (GstDofaOverlay * self)
{
  self->font_scale = 0;
}

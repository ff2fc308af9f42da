/* GStreamer dofa: dofaoverlay, draws the classification that dofaclassify
 * attached (label, confidence, level, latency) onto the frame. */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_DOFA_OVERLAY (gst_dofa_overlay_get_type ())
G_DECLARE_FINAL_TYPE (GstDofaOverlay, gst_dofa_overlay, GST, DOFA_OVERLAY, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE (dofaoverlay);

G_END_DECLS

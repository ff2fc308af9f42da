/* GStreamer dofa: dofaclassify, a classifier that keeps a latency target by
 * switching between the levels (sub-networks) of a Dynamic-OFA model. */
#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_DOFA_CLASSIFY (gst_dofa_classify_get_type ())
G_DECLARE_FINAL_TYPE (GstDofaClassify, gst_dofa_classify, GST, DOFA_CLASSIFY, GstBaseTransform)

#define GST_TYPE_DOFA_DEVICE (gst_dofa_device_get_type ())
GType gst_dofa_device_get_type (void);
#define GST_TYPE_DOFA_POLICY (gst_dofa_policy_get_type ())
GType gst_dofa_policy_get_type (void);

GST_ELEMENT_REGISTER_DECLARE (dofaclassify);

G_END_DECLS

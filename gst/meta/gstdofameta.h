/* GStreamer dofa: classification metadata
 *
 * Metadata that dofaclassify attaches to every buffer it classifies, readable
 * with no LibTorch and no C++ (link gstreamer-dofa-1.0).
 *
 * Three forms carry the same result:
 *  - GstDofaClassificationMeta (this header): typed, for C applications;
 *  - a GstCustomMeta named "DofaClassification" whose structure holds the
 *    same fields, readable from Python with no binding of ours:
 *      meta = buf.get_custom_meta("DofaClassification")
 *      s = meta.get_structure(); s.get_value("label")
 *  - a full-frame GstVideoRegionOfInterestMeta with id GST_DOFA_FULL_FRAME_ROI_ID
 *    and a "classification" param (label, confidence, label_id, level,
 *    model_name), the field names DL Streamer's consumers read.
 *
 * The fields are a superset of GstAnalytics' classification Mtd (GStreamer
 * >= 1.24): class ids with confidences, plus the level that produced them.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Most top-k entries a meta holds. */
#define GST_DOFA_MAX_TOP_K 16
/* roi-id / ROI meta id of a result for the whole frame. */
#define GST_DOFA_FULL_FRAME_ROI_ID (-1)
/* Name of the GstCustomMeta with the same fields as a GstStructure. */
#define GST_DOFA_CUSTOM_META_NAME "DofaClassification"

typedef struct _GstDofaClassificationMeta GstDofaClassificationMeta;

/**
 * GstDofaClassificationMeta:
 * @meta: parent #GstMeta
 * @class_id: most probable class
 * @label: its label, an interned string (g_intern_string()): never freed
 * @confidence: its softmax probability, 0..1
 * @n_top: number of valid entries in @top_ids and @top_scores (1..GST_DOFA_MAX_TOP_K)
 * @top_ids: the top-k class ids, most probable first
 * @top_scores: their probabilities
 * @level: level (sub-network) that classified the frame, 0 = fastest
 * @expected_accuracy: that level's top-1 accuracy in percent on test data, -1 if unknown
 * @pre_ms: time spent on the frame apart from inference (map, preprocess, meta), ms
 * @infer_ms: inference time, input tensor to logits, ms
 * @stale: TRUE when the frame was not classified (inference-interval) and
 *   carries the last result
 * @roi_id: region the result is for; GST_DOFA_FULL_FRAME_ROI_ID for the whole frame
 */
struct _GstDofaClassificationMeta {
  GstMeta meta;

  gint class_id;
  const gchar *label;
  gfloat confidence;
  guint n_top;
  gint top_ids[GST_DOFA_MAX_TOP_K];
  gfloat top_scores[GST_DOFA_MAX_TOP_K];
  gint level;
  gfloat expected_accuracy;
  gdouble pre_ms;
  gdouble infer_ms;
  gboolean stale;
  gint roi_id;
};

GType gst_dofa_classification_meta_api_get_type (void);
#define GST_DOFA_CLASSIFICATION_META_API_TYPE (gst_dofa_classification_meta_api_get_type ())

const GstMetaInfo *gst_dofa_classification_meta_get_info (void);
#define GST_DOFA_CLASSIFICATION_META_INFO (gst_dofa_classification_meta_get_info ())

/* Adds a zeroed meta (class_id -1, level -1, roi_id full frame); fill its fields after. */
GstDofaClassificationMeta *gst_buffer_add_dofa_classification_meta (GstBuffer * buffer);

/* The first classification meta on @buffer, or NULL. */
#define gst_buffer_get_dofa_classification_meta(b) \
  ((GstDofaClassificationMeta *) gst_buffer_get_meta ((b), GST_DOFA_CLASSIFICATION_META_API_TYPE))

/* Sets the label (interned: labels are few and every frame carries one). */
void gst_dofa_classification_meta_set_label (GstDofaClassificationMeta * meta, const gchar * label);

/* Registers the "DofaClassification" custom meta (idempotent); call before
 * gst_buffer_get_custom_meta() in a process that has not loaded the plugin. */
void gst_dofa_custom_meta_register (void);

/* Adds the custom meta and the ROI meta mirroring @meta's fields to @buffer
 * (of @width x @height pixels); @model_name goes into the ROI param. */
void gst_dofa_classification_meta_mirror (GstBuffer * buffer, const GstDofaClassificationMeta * meta,
    guint width, guint height, const gchar * model_name);

G_END_DECLS

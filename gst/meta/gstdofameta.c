/* GStreamer dofa: classification metadata (see gstdofameta.h). */
#include "gstdofameta.h"

#include <gst/video/video.h>
#include <string.h>

GType
gst_dofa_classification_meta_api_get_type (void)
{
  static GType type = 0;
  /* No tags: a classification of the whole frame does not depend on its size,
   * format or orientation, so every transform keeps it. */
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("GstDofaClassificationMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
dofa_meta_init (GstMeta * meta, gpointer params, GstBuffer * buffer)
{
  GstDofaClassificationMeta *m = (GstDofaClassificationMeta *) meta;

  (void) params;
  (void) buffer;
  m->class_id = -1;
  m->label = NULL;
  m->confidence = 0.0f;
  m->n_top = 0;
  memset (m->top_ids, 0, sizeof m->top_ids);
  memset (m->top_scores, 0, sizeof m->top_scores);
  m->level = -1;
  m->expected_accuracy = -1.0f;
  m->pre_ms = 0.0;
  m->infer_ms = 0.0;
  m->stale = FALSE;
  m->roi_id = GST_DOFA_FULL_FRAME_ROI_ID;
  return TRUE;
}

static gboolean
dofa_meta_transform (GstBuffer * dest, GstMeta * meta, GstBuffer * buffer, GQuark type, gpointer data)
{
  const GstDofaClassificationMeta *src = (const GstDofaClassificationMeta *) meta;
  GstDofaClassificationMeta *dst;

  (void) buffer;
  (void) type;
  (void) data;
  /* With no tags, every transform (copy, scale, convert) keeps the result. */
  dst = gst_buffer_add_dofa_classification_meta (dest);
  if (!dst)
    return FALSE;
  dst->class_id = src->class_id;
  dst->label = src->label;
  dst->confidence = src->confidence;
  dst->n_top = src->n_top;
  memcpy (dst->top_ids, src->top_ids, sizeof dst->top_ids);
  memcpy (dst->top_scores, src->top_scores, sizeof dst->top_scores);
  dst->level = src->level;
  dst->expected_accuracy = src->expected_accuracy;
  dst->pre_ms = src->pre_ms;
  dst->infer_ms = src->infer_ms;
  dst->stale = src->stale;
  dst->roi_id = src->roi_id;
  return TRUE;
}

const GstMetaInfo *
gst_dofa_classification_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;

  if (g_once_init_enter (&info)) {
    const GstMetaInfo *i = gst_meta_register (GST_DOFA_CLASSIFICATION_META_API_TYPE,
        "GstDofaClassificationMeta", sizeof (GstDofaClassificationMeta),
        dofa_meta_init, NULL, dofa_meta_transform);
    g_once_init_leave (&info, i);
  }
  return info;
}

GstDofaClassificationMeta *
gst_buffer_add_dofa_classification_meta (GstBuffer * buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (GstDofaClassificationMeta *) gst_buffer_add_meta (buffer, GST_DOFA_CLASSIFICATION_META_INFO, NULL);
}

void
gst_dofa_classification_meta_set_label (GstDofaClassificationMeta * meta, const gchar * label)
{
  g_return_if_fail (meta != NULL);
  meta->label = g_intern_string (label);
}

/* Field names as quarks, looked up once: every frame sets them all. */
static struct
{
  GQuark classification, class_id, label, label_id, confidence, top_ids, top_scores, level, expected_accuracy,
      pre_ms, infer_ms, stale, roi_id, model_name;
} q;

static void
init_quarks (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    q.classification = g_quark_from_static_string ("classification");
    q.class_id = g_quark_from_static_string ("class-id");
    q.label = g_quark_from_static_string ("label");
    q.label_id = g_quark_from_static_string ("label_id");
    q.confidence = g_quark_from_static_string ("confidence");
    q.top_ids = g_quark_from_static_string ("top-ids");
    q.top_scores = g_quark_from_static_string ("top-scores");
    q.level = g_quark_from_static_string ("level");
    q.expected_accuracy = g_quark_from_static_string ("expected-accuracy");
    q.pre_ms = g_quark_from_static_string ("pre-ms");
    q.infer_ms = g_quark_from_static_string ("infer-ms");
    q.stale = g_quark_from_static_string ("stale");
    q.roi_id = g_quark_from_static_string ("roi-id");
    q.model_name = g_quark_from_static_string ("model_name");
    g_once_init_leave (&done, 1);
  }
}

void
gst_dofa_custom_meta_register (void)
{
  static gsize done = 0;
  static const gchar *tags[] = { NULL };

  if (g_once_init_enter (&done)) {
    /* NULL transform: copied on copy transforms (gstmeta.c). */
    gst_meta_register_custom (GST_DOFA_CUSTOM_META_NAME, tags, NULL, NULL, NULL);
    g_once_init_leave (&done, 1);
  }
}

static void
set_interned_string (GstStructure * s, GQuark field, const gchar * str)
{
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_STRING);
  g_value_set_interned_string (&v, g_intern_string (str ? str : ""));
  gst_structure_id_take_value (s, field, &v);
}

static void
set_top_k (GstStructure * s, const GstDofaClassificationMeta * m)
{
  GValue ids = G_VALUE_INIT, scores = G_VALUE_INIT, v = G_VALUE_INIT;
  guint i;

  gst_value_array_init (&ids, m->n_top);
  gst_value_array_init (&scores, m->n_top);
  for (i = 0; i < m->n_top; i++) {
    g_value_init (&v, G_TYPE_INT);
    g_value_set_int (&v, m->top_ids[i]);
    gst_value_array_append_and_take_value (&ids, &v);
    g_value_init (&v, G_TYPE_DOUBLE);
    g_value_set_double (&v, m->top_scores[i]);
    gst_value_array_append_and_take_value (&scores, &v);
  }
  gst_structure_id_take_value (s, q.top_ids, &ids);
  gst_structure_id_take_value (s, q.top_scores, &scores);
}

void
gst_dofa_classification_meta_mirror (GstBuffer * buffer, const GstDofaClassificationMeta * m,
    guint width, guint height, const gchar * model_name)
{
  GstCustomMeta *custom;
  GstStructure *s;
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *param;

  g_return_if_fail (GST_IS_BUFFER (buffer) && m != NULL);

  gst_dofa_custom_meta_register ();
  init_quarks ();
  custom = gst_buffer_add_custom_meta (buffer, GST_DOFA_CUSTOM_META_NAME);
  s = gst_custom_meta_get_structure (custom);
  /* Quarks and interned strings: no lookups and no copies per frame. */
  gst_structure_id_set (s,
      q.class_id, G_TYPE_INT, m->class_id,
      q.confidence, G_TYPE_DOUBLE, (gdouble) m->confidence,
      q.level, G_TYPE_INT, m->level,
      q.expected_accuracy, G_TYPE_DOUBLE, (gdouble) m->expected_accuracy,
      q.pre_ms, G_TYPE_DOUBLE, m->pre_ms,
      q.infer_ms, G_TYPE_DOUBLE, m->infer_ms,
      q.stale, G_TYPE_BOOLEAN, m->stale, q.roi_id, G_TYPE_INT, m->roi_id, NULL);
  set_interned_string (s, q.label, m->label);
  set_top_k (s, m);

  roi = gst_buffer_add_video_region_of_interest_meta_id (buffer, q.classification, 0, 0, width, height);
  roi->id = GST_DOFA_FULL_FRAME_ROI_ID;
  param = gst_structure_new_id (q.classification,
      q.confidence, G_TYPE_DOUBLE, (gdouble) m->confidence,
      q.label_id, G_TYPE_INT, m->class_id, q.level, G_TYPE_INT, m->level, NULL);
  set_interned_string (param, q.label, m->label);
  set_interned_string (param, q.model_name, model_name);
  gst_video_region_of_interest_meta_add_param (roi, param);
}

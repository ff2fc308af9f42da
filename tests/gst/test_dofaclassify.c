/* dofaclassify with real frames (videotestsrc) through GstHarness: metadata,
 * properties, level changes and their messages, error paths, state cycles,
 * and properties set from another thread while frames flow.
 *
 * The model is tests/fixtures/tiny-mbv3.json (random weights) with the level
 * table tests/fixtures/tiny-mbv3-cpu.json (three levels). */
#include <gio/gio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gstdofameta.h"

static gchar *model_path;
static gchar *table_path;

static const gchar *const kFormats[] = { "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA", "GRAY8", "NV12", "I420" };

static GstHarness *
harness_for (const gchar * format, const gchar * extra)
{
  gchar *launch = g_strdup_printf ("dofaclassify name=c model=%s level-table=%s %s", model_path, table_path,
      extra ? extra : "");
  gchar *src = g_strdup_printf ("videotestsrc is-live=true pattern=ball ! capsfilter caps=\"video/x-raw,format=%s,"
      "width=64,height=48,framerate=30/1\"", format);
  GstHarness *h = gst_harness_new_parse (launch);
  gst_harness_add_src_parse (h, src, TRUE);
  g_free (launch);
  g_free (src);
  return h;
}

/* The dofaclassify inside a harness made by harness_for() (the bin keeps it alive). */
static GstElement *
el (GstHarness * h)
{
  GstElement *e = gst_bin_get_by_name (GST_BIN (h->element), "c");
  gst_object_unref (e);
  return e;
}

static GstBuffer *
push_pull (GstHarness * h)
{
  fail_unless_equals_int (gst_harness_push_from_src (h), GST_FLOW_OK);
  return gst_harness_pull (h);
}

/* The typed, custom and ROI meta of one buffer agree. */
static const GstDofaClassificationMeta *
check_metas (GstBuffer * buf)
{
  const GstDofaClassificationMeta *m = gst_buffer_get_dofa_classification_meta (buf);
  GstCustomMeta *custom;
  const GstStructure *s;
  GstVideoRegionOfInterestMeta *roi;
  GstStructure *param;
  gint class_id, level;
  gdouble confidence;

  fail_unless (m != NULL);
  fail_unless (m->class_id >= 0 && m->class_id < 10);
  fail_unless (m->label != NULL && m->label[0] != '\0');
  fail_unless (m->label == g_intern_string (m->label));        /* documented: interned */
  fail_unless (m->confidence > 0.0f && m->confidence <= 1.0f);
  fail_unless (m->n_top >= 1 && m->top_ids[0] == m->class_id);
  fail_unless (m->level >= 0 && m->level < 3);
  fail_unless_equals_int (m->roi_id, GST_DOFA_FULL_FRAME_ROI_ID);

  custom = gst_buffer_get_custom_meta (buf, GST_DOFA_CUSTOM_META_NAME);
  fail_unless (custom != NULL);
  s = gst_custom_meta_get_structure (custom);
  fail_unless (gst_structure_get_int (s, "class-id", &class_id));
  fail_unless (gst_structure_get_int (s, "level", &level));
  fail_unless (gst_structure_get_double (s, "confidence", &confidence));
  fail_unless_equals_int (class_id, m->class_id);
  fail_unless_equals_int (level, m->level);
  fail_unless_equals_string (gst_structure_get_string (s, "label"), m->label);

  roi = gst_buffer_get_video_region_of_interest_meta_id (buf, GST_DOFA_FULL_FRAME_ROI_ID);
  fail_unless (roi != NULL);
  fail_unless_equals_int (roi->w, 64);
  fail_unless_equals_int (roi->h, 48);
  param = gst_video_region_of_interest_meta_get_param (roi, "classification");
  fail_unless (param != NULL);
  fail_unless_equals_string (gst_structure_get_string (param, "label"), m->label);
  fail_unless (gst_structure_get_double (param, "confidence", &confidence));
  fail_unless (gst_structure_get_string (param, "model_name")[0] != '\0');
  return m;
}

/* Pops element messages named @name from @bus; returns how many. */
static guint
count_messages (GstBus * bus, const gchar * name)
{
  guint n = 0;
  GstMessage *msg;
  while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (msg, name))
      n++;
    gst_message_unref (msg);
  }
  return n;
}

GST_START_TEST (test_defaults_and_flags)
{
  GstElement *e = gst_element_factory_make ("dofaclassify", NULL);
  GObjectClass *klass = G_OBJECT_GET_CLASS (e);
  GParamSpec *p;
  gdouble latency;
  gint level, window, threads;
  guint top_k, interval, stats;
  gboolean post, report;
  gchar *devices;

  fail_unless (e != NULL);
  g_object_get (e, "latency-ms", &latency, "level", &level, "window", &window, "threads", &threads,
      "top-k", &top_k, "inference-interval", &interval, "stats-interval", &stats, "post-messages", &post,
      "latency-report", &report, "available-devices", &devices, NULL);
  fail_unless_equals_float (latency, 0.0);
  fail_unless_equals_int (level, -1);
  fail_unless_equals_int (window, 30);
  fail_unless_equals_int (threads, 1);
  fail_unless_equals_int (top_k, 5);
  fail_unless_equals_int (interval, 1);
  fail_unless_equals_int (stats, 100);
  fail_unless (post && !report);
  fail_unless (g_str_has_prefix (devices, "cpu"));
  g_free (devices);

  p = g_object_class_find_property (klass, "latency-ms");
  fail_unless (p->flags & GST_PARAM_CONTROLLABLE);
  fail_unless (p->flags & GST_PARAM_MUTABLE_PLAYING);
  fail_unless_equals_float (G_PARAM_SPEC_DOUBLE (p)->maximum, 10000.0);
  p = g_object_class_find_property (klass, "device");
  fail_unless (p->flags & GST_PARAM_CONDITIONALLY_AVAILABLE);
  fail_unless (g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM (p)->enum_class, "cuda") != NULL);
  p = g_object_class_find_property (klass, "model");
  fail_unless (p->flags & GST_PARAM_MUTABLE_READY);
  p = g_object_class_find_property (klass, "level");
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->minimum, -1);
  fail_unless_equals_int (G_PARAM_SPEC_INT (p)->maximum, 63);
  p = g_object_class_find_property (klass, "current-level");
  fail_if (p->flags & G_PARAM_WRITABLE);
  fail_unless (g_enum_get_value_by_nick (G_PARAM_SPEC_ENUM (g_object_class_find_property (klass,
                  "policy"))->enum_class, "reactive") != NULL);
  gst_object_unref (e);
}
GST_END_TEST;

GST_START_TEST (test_meta_every_format)
{
  guint f, i;
  for (f = 0; f < G_N_ELEMENTS (kFormats); f++) {
    GstHarness *h = harness_for (kFormats[f], "level=2");
    for (i = 0; i < 3; i++) {
      GstBuffer *buf = push_pull (h);
      const GstDofaClassificationMeta *m = check_metas (buf);
      fail_unless_equals_int (m->level, 2);
      fail_unless (!m->stale);
      fail_unless (m->infer_ms > 0.0);
      gst_buffer_unref (buf);
    }
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_unsupported_caps_refused)
{
  GstHarness *h = harness_for ("RGB", NULL);
  GstCaps *yuy2 = gst_caps_from_string ("video/x-raw,format=YUY2,width=64,height=48,framerate=30/1");
  GstCaps *allowed = gst_pad_query_caps (GST_BASE_TRANSFORM_SINK_PAD (el (h)), NULL);
  fail_if (gst_caps_can_intersect (allowed, yuy2));
  gst_caps_unref (allowed);
  gst_caps_unref (yuy2);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_latency_target_changes_level)
{
  GstHarness *h = harness_for ("RGB", "latency-ms=0");
  GstBus *bus = gst_bus_new ();
  GstBuffer *buf;
  gint i, level;

  gst_element_set_bus (h->element, bus);
  /* No target: the most accurate level. */
  for (i = 0; i < 3; i++)
    gst_buffer_unref (push_pull (h));
  g_object_get (el (h), "current-level", &level, NULL);
  fail_unless_equals_int (level, 2);
  count_messages (bus, "");

  /* A target no level can meet: level 0 on the next frame, unreachable posted once. */
  g_object_set (el (h), "latency-ms", 0.001, NULL);
  for (i = 0; i < 4; i++) {
    buf = push_pull (h);
    fail_unless_equals_int (gst_buffer_get_dofa_classification_meta (buf)->level, 0);  /* the next frame */
    gst_buffer_unref (buf);
  }
  {
    guint unreachable = 0, changed = 0;
    GstMessage *msg;
    while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "dofa-target-unreachable"))
        unreachable++;
      if (gst_structure_has_name (s, "dofa-level-changed")) {
        gint old_level, new_level;
        changed++;
        fail_unless (gst_structure_get_int (s, "old-level", &old_level));
        fail_unless (gst_structure_get_int (s, "new-level", &new_level));
        fail_unless_equals_int (old_level, 2);
        fail_unless_equals_int (new_level, 0);
        fail_unless (gst_structure_get_string (s, "reason") != NULL);
      }
      gst_message_unref (msg);
    }
    fail_unless_equals_int (unreachable, 1);
    fail_unless_equals_int (changed, 1);
  }

  /* Back to no target: the most accurate level again. */
  g_object_set (el (h), "latency-ms", 0.0, NULL);
  for (i = 0; i < 3; i++)
    gst_buffer_unref (push_pull (h));
  g_object_get (el (h), "current-level", &level, NULL);
  fail_unless_equals_int (level, 2);
  fail_unless (count_messages (bus, "dofa-level-changed") >= 1);

  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_fixed_level_and_bounds)
{
  GstHarness *h = harness_for ("GRAY8", "level=1 latency-ms=0.001");
  GstBuffer *buf;
  gint i, level, n;

  for (i = 0; i < 4; i++) {
    buf = push_pull (h);
    fail_unless_equals_int (gst_buffer_get_dofa_classification_meta (buf)->level, 1);
    gst_buffer_unref (buf);
  }
  g_object_get (el (h), "num-levels", &n, NULL);
  fail_unless_equals_int (n, 3);
  /* Above num-levels: refused with a warning, back to automatic. */
  g_object_set (el (h), "level", 7, NULL);
  g_object_get (el (h), "level", &level, NULL);
  fail_unless_equals_int (level, -1);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_inference_interval)
{
  GstHarness *h = harness_for ("RGB", "inference-interval=3 level=2");
  gint i;
  for (i = 0; i < 7; i++) {
    GstBuffer *buf = push_pull (h);
    const GstDofaClassificationMeta *m = check_metas (buf);
    fail_unless_equals_int (m->stale, i % 3 != 0);
    gst_buffer_unref (buf);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_post_messages_and_stats)
{
  GstHarness *h = harness_for ("RGB", "stats-interval=2 level=0");
  GstBus *bus = gst_bus_new ();
  gint i;

  gst_element_set_bus (h->element, bus);
  for (i = 0; i < 4; i++)
    gst_buffer_unref (push_pull (h));
  fail_unless_equals_int (count_messages (bus, "dofa-stats"), 2);
  g_object_set (el (h), "post-messages", FALSE, NULL);
  for (i = 0; i < 4; i++)
    gst_buffer_unref (push_pull (h));
  fail_unless_equals_int (count_messages (bus, "dofa-stats"), 0);
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A missing model fails READY->PAUSED with an error naming the file; fixed, it works. */
GST_START_TEST (test_missing_model_then_fixed)
{
  GstElement *pipe = gst_parse_launch ("videotestsrc num-buffers=5 ! video/x-raw,format=RGB,width=32,height=32 "
      "! dofaclassify name=c model=/nonexistent/model.json ! fakesink", NULL);
  GstBus *bus = gst_element_get_bus (pipe);
  GstElement *c = gst_bin_get_by_name (GST_BIN (pipe), "c");
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_poll (bus, GST_MESSAGE_ERROR, 0);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (strstr (debug, "/nonexistent/model.json") != NULL, "debug: %s", debug);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);

  g_object_set (c, "model", model_path, "level-table", table_path, NULL);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
  gst_message_unref (msg);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (c);
  gst_object_unref (bus);
  gst_object_unref (pipe);
}
GST_END_TEST;

GST_START_TEST (test_corrupt_level_table)
{
  gchar *dir = g_dir_make_tmp ("dofa-gst-XXXXXX", NULL);
  gchar *bad = g_build_filename (dir, "bad.json", NULL);
  GstElement *e = gst_element_factory_make ("dofaclassify", NULL);
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  GError *err = NULL;
  gchar *debug = NULL;

  fail_unless (g_file_set_contents (bad, "{\"schema\": 1, \"model\": ", -1, NULL));
  gst_element_set_bus (e, bus);
  g_object_set (e, "model", model_path, "level-table", bad, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, &debug);
  fail_unless (strstr (debug, "bad.json") != NULL && strstr (debug, "malformed JSON") != NULL, "debug: %s", debug);
  g_error_free (err);
  g_free (debug);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_unlink (bad);
  g_rmdir (dir);
  g_free (bad);
  g_free (dir);
}
GST_END_TEST;

GST_START_TEST (test_device_switch)
{
  GstElement *e = gst_element_factory_make ("dofaclassify", NULL);
  gchar *devices;
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstMessage *msg;
  gint device;

  g_object_get (e, "available-devices", &devices, NULL);
  if (strstr (devices, "cuda")) {
    /* A CUDA machine: cpu -> cuda -> cpu while playing. Every frame is
     * classified, by the old device until the new one is ready. */
    const gchar *to[] = { "cuda", "cpu" };
    g_free (devices);
    gst_object_unref (e);
    h = harness_for ("RGB", "");
    gst_element_set_bus (h->element, bus);
    gst_buffer_unref (push_pull (h));
    for (int i = 0; i < 2; ++i) {
      int frames = 0;
      gst_util_set_object_arg (G_OBJECT (el (h)), "device", to[i]);
      while (count_messages (bus, "dofa-device-changed") == 0 && frames < 2000) {
        GstBuffer *out = push_pull (h);
        fail_unless (gst_buffer_get_dofa_classification_meta (out) != NULL);
        gst_buffer_unref (out);
        ++frames;
        g_usleep (1000);
      }
      fail_unless (frames < 2000, "no dofa-device-changed to %s", to[i]);
      g_object_get (el (h), "device", &device, NULL);
      fail_unless_equals_int (device, i == 0 ? 1 : 0);
    }
    gst_element_set_bus (h->element, NULL);
    gst_object_unref (bus);
    gst_harness_teardown (h);
    return;
  }
  g_free (devices);
  gst_element_set_bus (e, bus);
  g_object_set (e, "model", model_path, "level-table", table_path, "device", 1, NULL);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (e);

  /* Set while running: cpu kept, dofa-device-refused posted. */
  h = harness_for ("RGB", "level=0");
  gst_element_set_bus (h->element, bus);
  gst_buffer_unref (push_pull (h));
  g_object_set (el (h), "device", 1, NULL);
  g_object_get (el (h), "device", &device, NULL);
  fail_unless_equals_int (device, 0);
  fail_unless_equals_int (count_messages (bus, "dofa-device-refused"), 1);
  gst_buffer_unref (push_pull (h));
  gst_element_set_bus (h->element, NULL);
  gst_object_unref (bus);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* The measured-ms array of the next dofa-levels-measured message on @bus, as a string. */
static gchar *
levels_measured (GstBus * bus)
{
  GstMessage *msg;
  gchar *out = NULL;
  while (!out && (msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT))) {
    if (gst_message_has_name (msg, "dofa-levels-measured"))
      out = gst_value_serialize (gst_structure_get_value (gst_message_get_structure (msg), "measured-ms"));
    gst_message_unref (msg);
  }
  return out;
}

/* READY <-> PAUSED does not load the model again: the second start reports the
 * very latencies measured at the first load. */
GST_START_TEST (test_ready_paused_keeps_model)
{
  GstElement *e = gst_element_factory_make ("dofaclassify", NULL);
  GstBus *bus = gst_bus_new ();
  gchar *at_first_load, *after_cycle;

  gst_element_set_bus (e, bus);
  g_object_set (e, "model", model_path, "level-table", table_path, NULL);
  fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  at_first_load = levels_measured (bus);
  fail_unless (gst_element_set_state (e, GST_STATE_READY) == GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_set_state (e, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  after_cycle = levels_measured (bus);
  fail_unless (at_first_load != NULL && after_cycle != NULL);
  fail_unless_equals_string (at_first_load, after_cycle);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  g_free (at_first_load);
  g_free (after_cycle);
  gst_object_unref (bus);
  gst_object_unref (e);
}
GST_END_TEST;

/* The leaks tracer, when the test runs with GST_TRACERS=leaks; NULL otherwise. */
static GstTracer *
leaks_tracer (void)
{
  GList *tracers = gst_tracing_get_active_tracers (), *l;
  GstTracer *found = NULL;
  for (l = tracers; l; l = l->next)
    if (!found && g_str_equal (G_OBJECT_TYPE_NAME (l->data), "GstLeaksTracer"))
      found = gst_object_ref (l->data);
  g_list_free_full (tracers, gst_object_unref);
  return found;
}

/* NULL -> PLAYING -> NULL twenty times; with the leaks tracer active
 * (GST_TRACERS=leaks), every object and mini object made during the cycles is
 * gone afterwards. */
GST_START_TEST (test_state_cycles)
{
  gchar *launch = g_strdup_printf ("videotestsrc num-buffers=3 ! video/x-raw,format=NV12,width=40,height=30 ! "
      "dofaclassify model=%s level-table=%s ! fakesink", model_path, table_path);
  GstTracer *leaks = leaks_tracer ();
  gint i;

  /* Cycle 0 creates the process-wide singletons (element classes' pad
   * templates, the system clock); the next 20 are tracked. A task's thread
   * drops its last reference to its GstTask after the join that stopped it:
   * gst_task_cleanup_all () waits for those threads (and frees the task pool)
   * before tracking starts and before the counts are read. */
  for (i = 0; i <= 20; i++) {
    if (i == 1 && leaks) {
      gst_task_cleanup_all ();
      g_signal_emit_by_name (leaks, "activity-start-tracking");
    }
    GstElement *pipe = gst_parse_launch (launch, NULL);
    GstBus *bus = gst_element_get_bus (pipe);
    GstMessage *msg;
    fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
    msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    fail_unless (msg != NULL && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS);
    gst_message_unref (msg);
    fail_unless_equals_int (gst_element_set_state (pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_object_unref (bus);
    gst_object_unref (pipe);
  }
  if (leaks) {
    /* Addresses are reused: count per address what was created and removed. */
    GHashTable *alive = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    guint n_created, n_removed, l, k;
    GstStructure *checkpoint = NULL;
    const GValue *lists[2];
    gst_task_cleanup_all ();
    g_signal_emit_by_name (leaks, "activity-get-checkpoint", &checkpoint);
    lists[0] = gst_structure_get_value (checkpoint, "objects-created-list");
    lists[1] = gst_structure_get_value (checkpoint, "objects-removed-list");
    n_created = gst_value_list_get_size (lists[0]);
    n_removed = gst_value_list_get_size (lists[1]);
    for (l = 0; l < 2; l++)
      for (k = 0; k < gst_value_list_get_size (lists[l]); k++) {
        const GstStructure *o = gst_value_get_structure (gst_value_list_get_value (lists[l], k));
        gchar *key = g_strdup_printf ("%s %s", gst_structure_get_string (o, "type-name"),
            gst_structure_get_string (o, "address"));
        gint n = GPOINTER_TO_INT (g_hash_table_lookup (alive, key)) + (l == 0 ? 1 : -1);
        g_hash_table_insert (alive, key, GINT_TO_POINTER (n));
      }
    gst_structure_free (checkpoint);
    GST_INFO ("leaks tracer: %u created, %u removed", n_created, n_removed);
    {
      GHashTableIter it;
      gpointer key, n;
      g_hash_table_iter_init (&it, alive);
      while (g_hash_table_iter_next (&it, &key, &n))
        if (GPOINTER_TO_INT (n) != 0)
          g_printerr ("still alive after the cycles: %s (%d)\n", (gchar *) key, GPOINTER_TO_INT (n));
    }
    g_hash_table_destroy (alive);
    fail_unless_equals_int (n_created, n_removed);
    g_signal_emit_by_name (leaks, "activity-stop-tracking");
    gst_object_unref (leaks);
  }
  g_free (launch);
}
GST_END_TEST;

typedef struct {
  GstElement *element;
  volatile gint stop;
} Setter;

static gpointer
set_at_random (gpointer data)
{
  Setter *s = (Setter *) data;
  GRand *r = g_rand_new_with_seed (5);
  while (!g_atomic_int_get (&s->stop)) {
    switch (g_rand_int_range (r, 0, 7)) {
      case 0: g_object_set (s->element, "latency-ms", g_rand_double_range (r, 0, 20), NULL); break;
      case 1: g_object_set (s->element, "level", g_rand_int_range (r, -1, 3), NULL); break;
      case 2: g_object_set (s->element, "policy", g_rand_int_range (r, 0, 2), NULL); break;
      case 3: g_object_set (s->element, "top-k", (guint) g_rand_int_range (r, 1, 8), NULL); break;
      case 4: g_object_set (s->element, "accuracy-min", g_rand_double_range (r, 0, 100), NULL); break;
      case 5: g_object_set (s->element, "window", g_rand_int_range (r, 1, 50), NULL); break;
      default: {
        gint level;
        g_object_get (s->element, "current-level", &level, NULL);
        fail_unless (level >= -1 && level < 3);
      }
    }
    g_usleep (200);
  }
  g_rand_free (r);
  return NULL;
}

GST_START_TEST (test_properties_from_another_thread)
{
  GstHarness *h = harness_for ("BGRx", NULL);
  Setter s = { el (h), 0 };
  GThread *t = g_thread_new ("setter", set_at_random, &s);
  gint i;
  for (i = 0; i < 60; i++) {
    GstBuffer *buf = push_pull (h);
    check_metas (buf);
    gst_buffer_unref (buf);
  }
  g_atomic_int_set (&s.stop, 1);
  g_thread_join (t);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_latency_query)
{
  GstHarness *h = harness_for ("RGB", "latency-report=true latency-ms=25");
  GstClockTime min;
  gst_buffer_unref (push_pull (h));
  min = gst_harness_query_latency (h);
  fail_unless (min >= 25 * GST_MSECOND, "latency %" GST_TIME_FORMAT, GST_TIME_ARGS (min));
  gst_harness_teardown (h);
}
GST_END_TEST;

/* The whole of a gzip file (Fashion-MNIST's IDX files), or NULL. */
static guint8 *
read_gz (const gchar * path, gsize * len)
{
  GFile *file = g_file_new_for_path (path);
  GFileInputStream *raw = g_file_read (file, NULL, NULL);
  GZlibDecompressor *z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  GInputStream *in;
  GByteArray *out = g_byte_array_new ();
  guint8 chunk[65536];
  gssize n;

  g_object_unref (file);
  if (!raw) {
    g_object_unref (z);
    return NULL;
  }
  in = g_converter_input_stream_new (G_INPUT_STREAM (raw), G_CONVERTER (z));
  while ((n = g_input_stream_read (in, chunk, sizeof chunk, NULL, NULL)) > 0)
    g_byte_array_append (out, chunk, n);
  g_object_unref (in);
  g_object_unref (raw);
  g_object_unref (z);
  *len = out->len;
  return g_byte_array_free (out, FALSE);
}

/* With no properties set, the element loads the built-in model and its level
 * table: Fashion-MNIST test images pushed as 28x28 GRAY8 frames come out
 * labelled with their classes. */
/* dofaoverlay draws a dark box (32) with white text in the top-left corner of the
 * first plane (luma for NV12 and I420) and leaves the rest and frames without
 * the meta alone. */
GST_START_TEST (test_overlay_draws)
{
  const gchar *formats[] = { "RGB", "BGRx", "GRAY8", "NV12", "I420" };
  guint f;
  GstElementFactory *overlay = gst_element_factory_find ("dofaoverlay");
  if (!overlay)
    return;                     /* a build without OpenCV has no overlay */
  gst_object_unref (overlay);
  for (f = 0; f < G_N_ELEMENTS (formats); f++) {
    gchar *launch = g_strdup_printf ("dofaclassify model=%s level-table=%s ! dofaoverlay font-scale=0.4", model_path,
        table_path);
    gchar *src = g_strdup_printf ("videotestsrc is-live=true pattern=white ! capsfilter caps=\"video/x-raw,format=%s,"
        "width=160,height=120,framerate=30/1\"", formats[f]);
    GstHarness *h = gst_harness_new_parse (launch);
    GstBuffer *buf;
    GstVideoInfo info;
    GstVideoFrame frame;
    GstCaps *caps;
    guint8 *p;
    gint stride, x, y, bright = 0;

    gst_harness_add_src_parse (h, src, TRUE);
    buf = push_pull (h);
    caps = gst_pad_get_current_caps (h->sinkpad);
    fail_unless (gst_video_info_from_caps (&info, caps));
    gst_caps_unref (caps);
    fail_unless (gst_video_frame_map (&frame, &info, buf, GST_MAP_READ));
    p = GST_VIDEO_FRAME_PLANE_DATA (&frame, 0);
    stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    fail_unless_equals_int (p[0], 32);                                                   /* the box */
    fail_unless (p[(info.height - 1) * stride] > 200);                                   /* white below it */
    for (y = 0; y < 30; y++)
      for (x = 0; x < 100; x++)
        bright += p[y * stride + x * GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, 0)] > 200;
    fail_unless (bright > 20, "%s: %d text pixels", formats[f], bright);
    gst_video_frame_unmap (&frame);
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
    g_free (launch);
    g_free (src);
  }
  {
    /* No meta: the frame passes unchanged. */
    GstHarness *h = gst_harness_new_parse ("dofaoverlay");
    GstMapInfo map;
    GstBuffer *buf;
    gst_harness_add_src_parse (h, "videotestsrc is-live=true pattern=white ! capsfilter caps=\"video/x-raw,format=GRAY8,"
        "width=64,height=48,framerate=30/1\"", TRUE);
    buf = push_pull (h);
    fail_unless (gst_buffer_map (buf, &map, GST_MAP_READ));
    fail_unless (map.data[65] > 200);
    gst_buffer_unmap (buf, &map);
    gst_buffer_unref (buf);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

GST_START_TEST (test_builtin_model_fashion_mnist)
{
  const gchar *dir = g_getenv ("DOFA_FMNIST_DIR") ? g_getenv ("DOFA_FMNIST_DIR") :
      "/usr/share/datasets/fashion-mnist";
  gchar *ipath = g_build_filename (dir, "t10k-images-idx3-ubyte.gz", NULL);
  gchar *lpath = g_build_filename (dir, "t10k-labels-idx1-ubyte.gz", NULL);
  gsize ilen = 0, llen = 0;
  guint8 *images = read_gz (ipath, &ilen), *labels = read_gz (lpath, &llen);
  const guint n = 300;
  guint i, correct = 0, levels_seen = 0;
  gint num_levels = 0;
  GstHarness *h;

  fail_unless (images && labels && ilen >= 16 + n * 784 && llen >= 8 + n, "cannot read %s", ipath);
  h = gst_harness_new_parse ("dofaclassify name=c");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=GRAY8,width=28,height=28,framerate=0/1");
  for (i = 0; i < n; i++) {
    GstBuffer *in = gst_buffer_new_memdup (images + 16 + i * 784, 784), *out;
    const GstDofaClassificationMeta *m;

    GST_BUFFER_PTS (in) = i * GST_SECOND / 30;
    out = gst_harness_push_and_pull (h, in);
    m = gst_buffer_get_dofa_classification_meta (out);
    fail_unless (m != NULL);
    correct += m->class_id == labels[8 + i];
    levels_seen |= 1u << m->level;
    gst_buffer_unref (out);
  }
  g_object_get (el (h), "num-levels", &num_levels, NULL);
  fail_unless (num_levels >= 6, "built-in level table has %d levels", num_levels);
  /* No latency target: one level, the table's most accurate by test top-1 (not
   * always the last: neighbouring levels may invert within their intervals). */
  fail_unless (levels_seen != 0 && (levels_seen & (levels_seen - 1)) == 0, "levels used: 0x%x", levels_seen);
  fail_unless (levels_seen >= 1u << (num_levels - 2), "a fast level (0x%x) with no target", levels_seen);
  GST_INFO ("built-in model: %u of %u Fashion-MNIST test images right", correct, n);
  fail_unless (correct >= n * 80 / 100, "only %u of %u right", correct, n);
  gst_harness_teardown (h);
  g_free (images);
  g_free (labels);
  g_free (ipath);
  g_free (lpath);
}

GST_END_TEST;

static Suite *
dofaclassify_suite (void)
{
  Suite *s = suite_create ("dofaclassify");
  TCase *tc = tcase_create ("general");
  const gchar *fixtures = g_getenv ("DOFA_FIXTURES");

  model_path = g_build_filename (fixtures ? fixtures : "tests/fixtures", "tiny-mbv3.json", NULL);
  table_path = g_build_filename (fixtures ? fixtures : "tests/fixtures", "tiny-mbv3-cpu.json", NULL);
  tcase_set_timeout (tc, 300);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_defaults_and_flags);
  tcase_add_test (tc, test_meta_every_format);
  tcase_add_test (tc, test_unsupported_caps_refused);
  tcase_add_test (tc, test_latency_target_changes_level);
  tcase_add_test (tc, test_fixed_level_and_bounds);
  tcase_add_test (tc, test_inference_interval);
  tcase_add_test (tc, test_post_messages_and_stats);
  tcase_add_test (tc, test_missing_model_then_fixed);
  tcase_add_test (tc, test_corrupt_level_table);
  tcase_add_test (tc, test_device_switch);
  tcase_add_test (tc, test_state_cycles);
  tcase_add_test (tc, test_ready_paused_keeps_model);
  tcase_add_test (tc, test_properties_from_another_thread);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_builtin_model_fashion_mnist);
  tcase_add_test (tc, test_overlay_draws);
  return s;
}

GST_CHECK_MAIN (dofaclassify);

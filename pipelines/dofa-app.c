/* dofa-app: the DeepStream-app pattern with dofaclassify.
 *
 * Builds "SOURCE ! videoconvert ! dofaclassify ! dofaoverlay ! fakesink",
 * reads the typed GstDofaClassificationMeta in a pad probe, prints
 * statistics every second (frames per second, the level, time per frame,
 * the most frequent label) and walks latency-ms through a list of targets
 * on a timer, the way a controlling application would.
 *
 *   dofa-app [--source DESC] [--targets 5,2,10] [--switch-seconds S] [--seconds N]
 *
 * Build: cc dofa-app.c $(pkg-config --cflags --libs gstreamer-1.0 gstreamer-dofa-1.0)
 */
#include <gst/gst.h>
#include <gst/dofa/gstdofameta.h>

#include <stdlib.h>
#include <string.h>

typedef struct {
  GMutex lock;            /* the probe runs in the streaming thread, the timers in the main loop */
  guint64 frames, classified;
  gdouble ms_sum;         /* pre + infer of classified frames */
  gint level;
  guint label_count[64];
  gchar *labels[64];
} Stats;

typedef struct {
  GMainLoop *loop;
  GstElement *pipeline, *classify;
  Stats stats;
  gdouble *targets;
  guint n_targets, next_target;
  gint64 start_us;
} App;

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  App *app = data;
  GstDofaClassificationMeta *m = gst_buffer_get_dofa_classification_meta (GST_PAD_PROBE_INFO_BUFFER (info));
  (void) pad;
  if (m == NULL)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&app->stats.lock);
  app->stats.frames++;
  app->stats.level = m->level;
  if (!m->stale) {
    app->stats.classified++;
    app->stats.ms_sum += m->pre_ms + m->infer_ms;
  }
  if (m->class_id >= 0 && m->class_id < 64) {
    app->stats.label_count[m->class_id]++;
    if (app->stats.labels[m->class_id] == NULL)
      app->stats.labels[m->class_id] = g_strdup (m->label);
  }
  g_mutex_unlock (&app->stats.lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
print_stats (gpointer data)
{
  App *app = data;
  Stats *s = &app->stats;
  guint best = 0, i;
  gdouble target;
  g_object_get (app->classify, "latency-ms", &target, NULL);
  g_mutex_lock (&s->lock);
  for (i = 1; i < 64; i++)
    if (s->label_count[i] > s->label_count[best])
      best = i;
  g_print ("t=%5.1fs  %4" G_GUINT64_FORMAT " fps  level %d  %.3f ms/frame  target %.2f ms  most seen: %s\n",
      (g_get_monotonic_time () - app->start_us) / 1e6, s->frames, s->level,
      s->classified ? s->ms_sum / s->classified : 0.0, target, s->labels[best] ? s->labels[best] : "-");
  s->frames = s->classified = 0;
  s->ms_sum = 0;
  memset (s->label_count, 0, sizeof s->label_count);
  g_mutex_unlock (&s->lock);
  return G_SOURCE_CONTINUE;
}

static gboolean
next_target (gpointer data)
{
  App *app = data;
  gdouble t = app->targets[app->next_target++ % app->n_targets];
  g_print ("setting latency-ms=%.2f\n", t);
  g_object_set (app->classify, "latency-ms", t, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_message (GstBus * bus, GstMessage * msg, gpointer data)
{
  App *app = data;
  (void) bus;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      if (gst_structure_has_name (s, "dofa-level-changed")) {
        gint from, to;
        gst_structure_get_int (s, "old-level", &from);
        gst_structure_get_int (s, "new-level", &to);
        g_print ("level %d -> %d (%s)\n", from, to, gst_structure_get_string (s, "reason"));
      }
      break;
    }
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (msg, &err, &dbg);
      g_printerr ("error from %s: %s\n%s\n", GST_OBJECT_NAME (msg->src), err->message, dbg ? dbg : "");
      g_clear_error (&err);
      g_free (dbg);
      exit (1);
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return TRUE;
}

static gboolean
stop (gpointer data)
{
  g_main_loop_quit (((App *) data)->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gchar *source = NULL, *targets = NULL;
  gint seconds = 0, switch_seconds = 3;
  GOptionEntry entries[] = {
    {"source", 0, 0, G_OPTION_ARG_STRING, &source, "Source description (default videotestsrc)", "DESC"},
    {"targets", 0, 0, G_OPTION_ARG_STRING, &targets, "latency-ms values to cycle through (default 5,2,10)", "LIST"},
    {"switch-seconds", 0, 0, G_OPTION_ARG_INT, &switch_seconds, "Seconds between targets (default 3)", "S"},
    {"seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "Stop after N seconds (default: at end of stream)", "N"},
    {NULL}
  };
  GOptionContext *ctx = g_option_context_new ("- classify video with dofaclassify, as an application does");
  GError *err = NULL;
  App app = { 0 };
  gchar **parts, *launch;
  GstPad *pad;
  guint i;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("dofa-app: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (switch_seconds < 1 || seconds < 0) {
    g_printerr ("dofa-app: --switch-seconds must be >= 1 and --seconds >= 0\n");
    return 2;
  }

  parts = g_strsplit (targets ? targets : "5,2,10", ",", -1);
  app.n_targets = g_strv_length (parts);
  app.targets = g_new0 (gdouble, app.n_targets);
  for (i = 0; i < app.n_targets; i++) {
    gchar *end = NULL;
    app.targets[i] = g_ascii_strtod (parts[i], &end);
    if (end == parts[i] || *end || app.targets[i] < 0) {
      g_printerr ("dofa-app: --targets: '%s' is not a latency in ms\n", parts[i]);
      return 2;
    }
  }
  g_strfreev (parts);

  launch = g_strdup_printf ("%s ! videoconvert ! dofaclassify name=classify latency-ms=%g ! dofaoverlay ! fakesink",
      source ? source : "videotestsrc", app.targets[0]);
  app.pipeline = gst_parse_launch (launch, &err);
  if (app.pipeline == NULL || err) {
    g_printerr ("dofa-app: cannot build '%s': %s\n", launch, err ? err->message : "unknown error");
    return 1;
  }
  g_free (launch);
  app.classify = gst_bin_get_by_name (GST_BIN (app.pipeline), "classify");
  pad = gst_element_get_static_pad (app.classify, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, &app, NULL);
  gst_object_unref (pad);
  g_mutex_init (&app.stats.lock);

  app.loop = g_main_loop_new (NULL, FALSE);
  gst_bus_add_watch (GST_ELEMENT_BUS (app.pipeline), on_message, &app);
  g_timeout_add_seconds (1, print_stats, &app);
  app.next_target = 1;
  if (app.n_targets > 1)
    g_timeout_add_seconds (switch_seconds, next_target, &app);
  if (seconds > 0)
    g_timeout_add_seconds (seconds, stop, &app);

  app.start_us = g_get_monotonic_time ();
  gst_element_set_state (app.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (app.loop);
  print_stats (&app);
  gst_element_set_state (app.pipeline, GST_STATE_NULL);

  gst_object_unref (app.classify);
  gst_object_unref (app.pipeline);
  g_main_loop_unref (app.loop);
  for (i = 0; i < 64; i++)
    g_free (app.stats.labels[i]);
  g_free (app.targets);
  g_mutex_clear (&app.stats.lock);
  return 0;
}

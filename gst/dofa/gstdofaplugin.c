/* GStreamer dofa plugin: dofaclassify and dofaoverlay. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstdofaclassify.h"
#if DOFA_HAVE_OVERLAY
#include "gstdofaoverlay.h"
#endif

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ok = GST_ELEMENT_REGISTER (dofaclassify, plugin);
#if DOFA_HAVE_OVERLAY
  ok &= GST_ELEMENT_REGISTER (dofaoverlay, plugin);     /* draws with OpenCV */
#endif
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, dofa,
    "Dynamic-OFA classification that keeps a latency target by switching sub-networks",
    plugin_init, PACKAGE_VERSION, "MIT/X11", "dofa", "Unknown package origin")

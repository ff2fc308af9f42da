#include "gnuplot.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "error.h"
#include "files.h"

namespace dofa::cli {

void run_gnuplot(const std::string& script, const std::string& who) {
  gchar* tmp = nullptr;
  GError* err = nullptr;
  const int fd = g_file_open_tmp("dofa-plot-XXXXXX.gp", &tmp, &err);
  if (fd < 0) {
    const std::string msg = err ? err->message : "unknown";
    g_clear_error(&err);
    throw Error(who + ": cannot write a gnuplot script: " + msg);
  }
  close(fd);
  const std::string path = tmp;
  g_free(tmp);
  write_file_atomic(path, script);
  gchar* argv[] = {const_cast<gchar*>("gnuplot"), const_cast<gchar*>(path.c_str()), nullptr};
  gint status = 0;
  gchar *sout = nullptr, *serr = nullptr;
  const bool ran = g_spawn_sync(nullptr, argv, nullptr, G_SPAWN_SEARCH_PATH, nullptr, nullptr, &sout, &serr, &status, &err);
  g_unlink(path.c_str());
  const std::string gperr = serr ? serr : "";
  g_free(sout);
  g_free(serr);
  if (!ran) {
    const std::string msg = err ? err->message : "unknown";
    g_clear_error(&err);
    throw Error(who + ": cannot run gnuplot (install gnuplot-nox): " + msg);
  }
  if (!g_spawn_check_wait_status(status, nullptr)) throw Error(who + ": gnuplot failed: " + gperr);
}

}  // namespace dofa::cli

// dofa calibrate: recompute every level's BN statistics (OFA's method) for the
// weights at hand and record their hash in the table.
#include <glib.h>

#include <cstdio>

#include "cli.h"
#include "error.h"
#include "evaluate.h"
#include "level_bn.h"
#include "system_info.h"

namespace dofa::cli {

int cmd_calibrate(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "level-table", "data", "images", "out", "threads"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa calibrate --level-table T --data D [--weights W] [--out T2] [--images N]\n"
        "  Recomputes the BN statistics of every level of T on N (default 2000) images of D with\n"
        "  the training transform, batches of 200 (OFA's set_running_statistics), writes them to\n"
        "  the table's BN file (T.bn.pt when it names none) and fills in the weights' sha256.\n"
        "  --out T2  write the table there instead of over T (the BN file goes beside it)\n");
    return 0;
  }
  set_threads(o.get_int("threads", 2));
  const std::string table_path = o.require("level-table");
  Spec spec = table_spec(o, table_path);
  LevelTable table = LevelTable::load(table_path, spec);
  Supernet net = Supernet::open(spec, o.get("weights", ""));
  if (net.sha256().empty()) throw Error("calibrate needs a weights file, not random weights");
  const std::string data_form = o.require("data");
  Dataset data = Dataset::open(data_form);
  const int images = o.get_int("images", 2000);
  if (images < 1) throw Error("--images " + o.get("images", "") + ": expected a positive count");

  std::vector<BnStats> stats;
  for (size_t i = 0; i < table.levels.size(); ++i) {
    stats.push_back(calibrate_bn(net, table.levels[i].arch, data, images));
    std::printf("level %zu %s: calibrated on %d images of %s\n", i, table.levels[i].arch.to_text().c_str(),
                std::min(images, data.size()), data_form.c_str());
  }
  const std::string out = o.get("out", table_path);
  table.path = out;
  if (table.bn_file.empty()) {
    gchar* base = g_path_get_basename(out.c_str());
    table.bn_file = std::string(base) + ".bn.pt";
    g_free(base);
  }
  table.provenance.weights_sha256 = net.sha256();
  table.provenance.data = data_form;
  // BN file first: a table never names statistics that are not there.
  save_level_bn(table.bn_path(), stats);
  table.save(out);
  std::printf("wrote %s and %s (weights sha256 %s)\n", out.c_str(), table.bn_path().c_str(), net.sha256().c_str());
  return 0;
}

}  // namespace dofa::cli

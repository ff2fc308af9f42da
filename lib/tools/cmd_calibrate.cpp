// dofa calibrate: recompute every level's BN statistics (OFA's method) for the
// weights at hand and record their hash in the table; optionally re-measure
// the levels' top-1 with them.
#include <glib.h>

#include <cstdio>
#include <memory>

#include "cli.h"
#include "error.h"
#include "evaluate.h"
#include "level_bn.h"
#include "system_info.h"

namespace dofa::cli {

int cmd_calibrate(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "level-table", "data", "images", "out", "threads", "val", "test"}, {});
  if (o.help()) {
    std::printf(
        "usage: dofa calibrate --level-table T --data D [--weights W] [--out T2] [--images N]\n"
        "  Recomputes the BN statistics of every level of T on N (default 2000) images of D with\n"
        "  the training transform, batches of 200 (OFA's set_running_statistics), writes them to\n"
        "  the table's BN file (T.bn.pt when it names none) and fills in the weights' sha256.\n"
        "  --out T2  write the table there instead of over T (the BN file goes beside it)\n"
        "  --val V, --test E  also re-measure every level's top-1 on V and E (the table's\n"
        "            top1_val and top1_test), e.g. after new weights: fmnist:val, fmnist:test\n");
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

  // Both opened before any work: a bad name fails at once, and nothing is written.
  const std::string val_form = o.get("val", ""), test_form = o.get("test", "");
  std::unique_ptr<Dataset> val, test;
  if (!val_form.empty()) val = std::make_unique<Dataset>(Dataset::open(val_form, "--val"));
  if (!test_form.empty()) test = std::make_unique<Dataset>(Dataset::open(test_form, "--test"));

  std::vector<BnStats> stats;
  for (size_t i = 0; i < table.levels.size(); ++i) {
    LevelEntry& l = table.levels[i];
    stats.push_back(calibrate_bn(net, l.arch, data, images));
    std::printf("level %zu %s: calibrated on %d images of %s", i, l.arch.to_text().c_str(),
                std::min(images, data.size()), data_form.c_str());
    if (val) {
      l.top1_val = evaluate(net, l.arch, stats.back(), *val).top1();
      std::printf("; top-1 %.2f %% on %s", l.top1_val, val_form.c_str());
    }
    if (test) {
      l.top1_test = evaluate(net, l.arch, stats.back(), *test).top1();
      std::printf("; top-1 %.2f %% on %s", l.top1_test, test_form.c_str());
    }
    std::printf("\n");
  }
  const std::string out = o.get("out", table_path);
  table.path = out;
  if (table.bn_file.empty()) {
    gchar* base = g_path_get_basename(out.c_str());
    table.bn_file = std::string(base) + ".bn.pt";
    g_free(base);
  }
  table.provenance.weights_sha256 = net.sha256();
  if (val || test) table.source = "measured";  // published accuracies replaced by ours
  table.provenance.data = data_form + " (BN)";
  if (test) table.provenance.data = test_form + " (top1_test), " + table.provenance.data;
  if (val) table.provenance.data = val_form + " (top1_val), " + table.provenance.data;
  // BN file first: a table never names statistics that are not there.
  save_level_bn(table.bn_path(), stats);
  table.save(out);
  std::printf("wrote %s and %s (weights sha256 %s)\n", out.c_str(), table.bn_path().c_str(), net.sha256().c_str());
  return 0;
}

}  // namespace dofa::cli

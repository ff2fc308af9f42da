// dofa eval: top-1 of one sub-network (a level of a table, or an arch of a
// supernet calibrated on the spot) on a dataset, with a 95 % interval.
#include <cstdio>
#include <memory>

#include "cli.h"
#include "error.h"
#include "evaluate.h"
#include "level_bn.h"
#include "system_info.h"

namespace dofa::cli {

int cmd_eval(const std::vector<std::string>& args) {
  Options o(args, {"spec", "weights", "arch", "level-table", "level", "data", "calib-data", "limit", "threads"},
            {"json"});
  if (o.help()) {
    std::printf(
        "usage: dofa eval (--level-table T --level N|all | [--spec S] [--weights W] --arch A) --data D\n"
        "  Top-1 of a sub-network on D (fmnist:test | fmnist:val | a folder of class sub-folders)\n"
        "  with a 95 %% Wilson interval. A level uses the table's BN statistics; an arch is first\n"
        "  calibrated on 2000 images of --calib-data (default fmnist:train for Fashion-MNIST, else D).\n"
        "  --limit N  only the first N images   --threads N (default 2)   --json\n");
    return 0;
  }
  set_threads(o.get_int("threads", 2));
  const std::string data_form = o.require("data");
  Dataset data = Dataset::open(data_form).first(o.get_int("limit", 1 << 30));
  Spec spec = load_spec(o);
  struct Item {
    std::string what;
    Arch arch;
    BnStats stats;
  };
  std::vector<Item> items;
  std::unique_ptr<Supernet> net;
  // Checked before any weights are loaded or statistics calibrated: those take minutes for ImageNet's models.
  auto check_classes = [&]() {
    if (int(data.classes().size()) != spec.classes)
      throw Error("--data " + data_form + " has " + std::to_string(data.classes().size()) + " classes, spec " +
                  spec.name + " has " + std::to_string(spec.classes));
  };
  if (o.has("level-table")) {
    const std::string table_path = o.require("level-table");
    spec = table_spec(o, table_path);
    LevelTable table = LevelTable::load(table_path, spec);
    const std::string level = o.require("level");
    const int n = level == "all" ? 0 : o.get_int("level", -1);
    if (level != "all" && (n < 0 || n >= int(table.levels.size())))
      throw Error("--level " + level + ": expected all or 0 to " + std::to_string(table.levels.size() - 1) + " for " +
                  table_path);
    check_classes();
    net = std::make_unique<Supernet>(Supernet::open(spec, o.get("weights", "")));
    if (!net->sha256().empty()) table.check_weights(net->sha256());
    std::vector<BnStats> all = load_level_bn(table, spec);
    if (all.empty()) throw Error(table_path + " has no BN statistics; run dofa calibrate first");
    for (int i = 0; i < int(table.levels.size()); ++i)
      if (level == "all" || i == n)
        items.push_back({"level " + std::to_string(i), table.levels[size_t(i)].arch, all[size_t(i)]});
  } else {
    check_classes();
    Arch arch = load_arch(o, spec);
    net = std::make_unique<Supernet>(Supernet::open(spec, o.get("weights", "")));
    const std::string calib = o.get("calib-data", data_form.rfind("fmnist:", 0) == 0 ? "fmnist:train" : data_form);
    items.push_back({"arch", arch, calibrate_bn(*net, arch, Dataset::open(calib, "--calib-data"))});
  }
  for (const Item& it : items) {
    EvalResult r = evaluate(*net, it.arch, it.stats, data);
    auto [lo, hi] = wilson95(r.correct, r.n);
    if (o.flag("json"))
      std::printf("{\"arch\": \"%s\", \"data\": \"%s\", \"images\": %d, \"correct\": %d, \"top1\": %.4f, "
                  "\"ci95\": [%.4f, %.4f]}\n",
                  it.arch.to_text().c_str(), data_form.c_str(), r.n, r.correct, r.top1(), lo, hi);
    else
      std::printf("%s %s on %s: top-1 %.2f %% (%d of %d), 95 %% interval %.2f to %.2f %%\n", it.what.c_str(),
                  it.arch.to_text().c_str(), data_form.c_str(), r.top1(), r.correct, r.n, lo, hi);
  }
  return 0;
}

}  // namespace dofa::cli

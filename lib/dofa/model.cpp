#include "model.h"

#include <glib.h>

#include <algorithm>
#include <map>

#include "error.h"
#include "flops.h"
#include "model_impl.h"
#include "system_info.h"

namespace dofa {

Materialize parse_materialize(const std::string& s) {
  if (s == "all") return Materialize::All;
  if (s == "lazy") return Materialize::Lazy;
  if (s == "none") return Materialize::None;
  throw Error("materialize '" + s + "': expected all, lazy or none");
}

const char* cpu_kernels_name(CpuKernels k) {
  switch (k) {
    case CpuKernels::Fastest: return "fastest";
    case CpuKernels::Own: return "own";
    case CpuKernels::AtenChannelsLast: return "aten-cl";
    case CpuKernels::AtenNchw: return "aten-nchw";
  }
  return "?";
}

namespace {

// Rounds of warm-up runs whose median is a level's latency measured at load.
constexpr int kMeasureRounds = 3;

std::string default_table(const Spec& spec, const std::string& device) {
  for (const auto& d : data_path()) {
    std::string p = d + "/luts/" + spec.name + "-" + device + ".json";
    if (g_file_test(p.c_str(), G_FILE_TEST_IS_REGULAR)) return p;
  }
  return "";
}

std::string canonical(const std::string& p) {
  if (p.empty()) return p;
  gchar* c = g_canonicalize_filename(p.c_str(), nullptr);
  std::string s = c;
  g_free(c);
  return s;
}

}  // namespace

std::shared_ptr<const Level> Model::Impl::build(int i) const {
  auto level = std::make_shared<const Level>(Level::build(*net, info[i].arch, stats(i), options.kernels, device()));
  level->warm_up(options.warmup_runs);  // first calls of new conv shapes are slow (numbers.md §7)
  return level;
}

void Model::Impl::request(int i) const {
  if (ready(i) || building[i]->exchange(true)) return;
  std::lock_guard<std::mutex> lock(build_mutex);
  builders.emplace_back([this, i] {
    try {
      std::atomic_store(&levels[i], build(i));
    } catch (const std::exception& e) {
      g_warning("dofa: building level %d failed: %s", i, e.what());
    }
  });
}

Model::Impl::~Impl() {
  for (auto& t : builders)
    if (t.joinable()) t.join();
}

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::shared_ptr<const Model> Model::load(const ModelOptions& o) {
  if (o.device != "cpu" && o.device != "cuda") throw Error("device '" + o.device + "': expected cpu or cuda");
  if (o.device == "cuda") {
    const std::string why = cuda_unavailable_reason();
    if (!why.empty()) throw Error("device 'cuda': " + why);
    if (o.materialize == Materialize::None)
      throw Error("device 'cuda': materialize=none runs the supernet on the CPU; use all or lazy");
    // Autotuning would stall the first frame of every level after a switch.
    at::globalContext().setBenchmarkCuDNN(false);
  }
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  impl->spec = Spec::load(Spec::find(o.spec));
  impl->net = std::make_unique<Supernet>(Supernet::open(impl->spec, o.weights));
  const Spec& spec = impl->spec;

  // Explicit archs are the levels; only without them is the default table looked up.
  impl->table_path = !o.level_table.empty() ? o.level_table : o.archs.empty() ? default_table(spec, o.device) : "";
  if (!impl->table_path.empty()) {
    LevelTable table = LevelTable::load(impl->table_path, spec);
    if (!impl->net->sha256().empty()) table.check_weights(impl->net->sha256());
    impl->bn = load_level_bn(table, spec);
    for (const LevelEntry& e : table.levels) {
      LevelInfo li;
      li.arch = e.arch;
      li.top1 = e.top1_test;
      li.latency_mean_ms = e.latency_mean_ms;
      li.latency_p90_ms = e.latency_p90_ms;
      li.mflops = e.mflops;
      li.params = e.params;
      impl->info.push_back(li);
    }
    if (impl->info.empty()) throw Error(impl->table_path + ": the level table has no levels");
  } else {
    std::vector<std::string> archs = o.archs.empty() ? std::vector<std::string>{"max"} : o.archs;
    for (const auto& a : archs) {
      LevelInfo li;
      li.arch = Arch::parse(a, spec);
      NetCost c = net_cost(spec, li.arch);
      li.mflops = c.mflops;
      li.params = c.params;
      impl->info.push_back(li);
    }
  }

  const int n = int(impl->info.size());
  impl->levels.resize(n);
  for (int i = 0; i < n; ++i) impl->building.push_back(std::make_unique<std::atomic<bool>>(false));
  if (o.materialize == Materialize::All) {
    for (int i = 0; i < n; ++i) impl->levels[i] = impl->build(i);
    // Timed side by side, the median over interleaved rounds (profile.h): a
    // burst of load spoils one round of every level, not one level's figure.
    std::vector<std::vector<double>> rounds(static_cast<size_t>(n));
    for (int r = 0; r < kMeasureRounds; ++r)
      for (int i = 0; i < n; ++i) rounds[size_t(i)].push_back(impl->levels[i]->warm_up(o.warmup_runs));
    for (int i = 0; i < n; ++i) {
      std::vector<double>& v = rounds[size_t(i)];
      std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
      impl->info[i].measured_ms = v[v.size() / 2];
    }
  }
  return std::shared_ptr<const Model>(new Model(std::move(impl)));
}

std::shared_ptr<const Model> Model::get(const ModelOptions& o) {
  static std::mutex mu;
  static std::map<std::string, std::weak_ptr<const Model>> cache;
  std::string key = canonical(Spec::find(o.spec)) + "|" + canonical(o.level_table) + "|" + o.weights + "|" +
                    o.device + "|" + std::to_string(int(o.materialize)) + "|" + cpu_kernels_name(o.kernels);
  for (const auto& a : o.archs) key += "|" + a;
  std::lock_guard<std::mutex> lock(mu);
  if (auto m = cache[key].lock()) return m;
  auto m = load(o);
  cache[key] = m;
  return m;
}

const Spec& Model::spec() const { return impl_->spec; }
const std::string& Model::device() const { return impl_->options.device; }
Materialize Model::materialize() const { return impl_->options.materialize; }
int Model::num_levels() const { return int(impl_->info.size()); }
std::string Model::level_table_path() const { return impl_->table_path; }

const LevelInfo& Model::level(int i) const {
  if (i < 0 || i >= num_levels())
    throw Error("level " + std::to_string(i) + " out of range 0.." + std::to_string(num_levels() - 1));
  return impl_->info[i];
}

}  // namespace dofa

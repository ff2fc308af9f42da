#include "search.h"

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>

#include "acc_predictor.h"
#include "error.h"
#include "evaluate.h"
#include "files.h"
#include "flops.h"
#include "json_reader.h"
#include "latency_lut.h"
#include "level_bn.h"
#include "profile.h"
#include "search_algorithms.h"
#include "system_info.h"

namespace dofa {

namespace {

using Clock = std::chrono::steady_clock;

struct Candidate {
  Arch arch;
  std::string source;  // "random" (predictor data), "search", "pool"
  double top1_val = -1, latency_ms = 0, latency_p90 = 0, pred_top1 = -1, pred_ms = -1;
  BnStats bn;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string beside(const std::string& table, const std::string& suffix) {
  std::string base = table;
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
  return base + suffix;
}

std::string basename_of(const std::string& p) {
  gchar* b = g_path_get_basename(p.c_str());
  std::string s = b;
  g_free(b);
  return s;
}

bool in_space(const Spec& space, const Arch& a) {
  auto has = [](const std::vector<int>& xs, int v) { return std::find(xs.begin(), xs.end(), v) != xs.end(); };
  if (!has(space.resolutions, a.r)) return false;
  for (int d : a.d)
    if (!has(space.depths, d)) return false;
  for (size_t i = 0; i < a.ks.size(); ++i) {
    if (i % size_t(space.max_depth()) >= size_t(a.d[i / size_t(space.max_depth())])) continue;
    if (!has(space.kernel_sizes, a.ks[i]) || !has(space.expand_ratios, a.e[i])) return false;
  }
  return true;
}

void write_pool(const std::string& path, const Spec& spec, const std::string& sha, const SearchOptions& o,
                const std::vector<Candidate>& c) {
  const std::string bn = beside(path, ".bn.pt");
  std::vector<BnStats> stats;
  for (const Candidate& x : c) stats.push_back(x.bn);
  save_level_bn(bn, stats);
  JsonWriter w;
  w.begin_object();
  w.key("schema").value(1).key("model").value(spec.name).key("weights_sha256").value(sha);
  w.key("device").value("cpu").key("threads").value(o.latency_threads);
  w.key("calibration").value(o.train).key("validation").value(o.val);
  w.key("bn_file").value(basename_of(bn));
  w.key("candidates").begin_array();
  for (const Candidate& x : c) {
    w.begin_object().key("arch").value(x.arch.to_text()).key("source").value(x.source);
    w.key("top1_val").value(x.top1_val);
    w.key("latency_ms").begin_object().key("mean").value(x.latency_ms).key("p90").value(x.latency_p90).end_object();
    w.key("predicted_top1").value(x.pred_top1).key("predicted_ms").value(x.pred_ms);
    w.end_object();
  }
  w.end_array().end_object();
  write_file_atomic(path, w.str());
}

std::vector<Candidate> read_pool(const std::string& path, const Spec& spec, const std::string& sha) {
  JsonValue root = JsonValue::parse_file(path);
  if (root["model"].as_string() != spec.name)
    root["model"].fail("the model " + spec.name);
  if (root["weights_sha256"].as_string() != sha)
    throw Error(path + ": measured with weights " + root["weights_sha256"].as_string() + ", these are " + sha);
  gchar* dir = g_path_get_dirname(path.c_str());
  const std::string bn_path = std::string(dir) + "/" + root["bn_file"].as_string();
  g_free(dir);
  TensorMap all = load_tensors(bn_path);
  JsonValue list = root["candidates"];
  std::vector<Candidate> out(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    JsonValue j = list.at(i);
    Candidate& c = out[i];
    c.arch = Arch::from_text(j["arch"].as_string());
    c.arch.validate(spec);
    c.source = j["source"].as_string();
    c.top1_val = j["top1_val"].as_double();
    c.latency_ms = j["latency_ms"]["mean"].as_double();
    c.latency_p90 = j["latency_ms"]["p90"].as_double();
    c.pred_top1 = j["predicted_top1"].as_double();
    c.pred_ms = j["predicted_ms"].as_double();
    const std::string prefix = std::to_string(i) + "/";
    for (const auto& [k, t] : all)
      if (k.rfind(prefix, 0) == 0) c.bn[k.substr(prefix.size())] = t;
    if (c.bn.empty()) throw Error(bn_path + ": no BN statistics for candidate " + std::to_string(i));
  }
  return out;
}

// Times of the search's stages, for its summary.
struct Timings {
  PredictorFit fit;
  double predictor = 0, search = 0, measure = 0;
  Clock::time_point t0;
};

// 3. The Pareto front of the measured candidates of this space, the levels,
// their test top-1; writes the level table (+ BN) and the summary.
void write_family(const Spec& spec, const Spec& space, const Supernet& net, const std::vector<Candidate>& pool,
                  const SearchOptions& o, const Timings& tm) {
  auto log = [&o](const std::string& s) { if (o.log) o.log(s); };
  const auto t0 = tm.t0;
  const PredictorFit& fit = tm.fit;
  const double t_predictor = tm.predictor, t_search = tm.search, t_measure = tm.measure;
  const std::string pool_path = o.device == "cpu" ? beside(o.out, ".pool.json") : o.pool;
  std::vector<size_t> ids;
  std::vector<double> lats, accs;
  for (size_t i = 0; i < pool.size(); ++i)
    if (in_space(space, pool[i].arch)) {
      ids.push_back(i);
      lats.push_back(pool[i].latency_ms);
      accs.push_back(pool[i].top1_val);
    }
  std::vector<size_t> front = pareto_front(lats, accs);
  std::vector<size_t> chosen = choose_levels(front, lats, o.levels);
  const Dataset test = Dataset::open(o.test, "--test");
  LevelTable table;
  table.model = spec.name;
  table.device = o.device;
  table.source = "measured";
  table.provenance = measured_here(o.latency_threads, o.device);
  table.provenance.weights_sha256 = net.sha256();
  table.provenance.data = o.val + " (choice), " + o.test + " (top1_test), " + o.train + " (BN)";
  table.path = o.out;
  table.bn_file = basename_of(beside(o.out, ".bn.pt"));
  std::vector<BnStats> level_bn;
  std::vector<EvalResult> test_results;
  set_threads(o.eval_threads);
  for (size_t c : chosen) {
    const Candidate& x = pool[ids[c]];
    LevelEntry e;
    e.arch = x.arch;
    e.top1_val = x.top1_val;
    test_results.push_back(evaluate(net, x.arch, x.bn, test));
    e.top1_test = test_results.back().top1();
    e.latency_mean_ms = x.latency_ms;
    e.latency_p90_ms = x.latency_p90;
    NetCost cost = net_cost(spec, x.arch);
    e.mflops = cost.mflops;
    e.params = cost.params;
    table.levels.push_back(e);
    level_bn.push_back(x.bn);
  }
  save_level_bn(table.bn_path(), level_bn);
  table.save(o.out);

  // Summary for the report: every candidate, the front, the levels.
  JsonWriter w;
  w.begin_object();
  w.key("model").value(spec.name).key("dims").value(o.dims.empty() ? "all" : o.dims);
  w.key("device").value(o.device).key("threads").value(o.latency_threads);
  w.key("predictor").begin_object().key("train").value(fit.train).key("holdout").value(fit.holdout);
  w.key("rmse_pp").value(fit.rmse_pp).key("kendall_tau").value(fit.kendall_tau).end_object();
  w.key("seconds").begin_object().key("predictor").value(t_predictor).key("search").value(t_search);
  w.key("measure").value(t_measure).key("total").value(seconds_since(t0)).end_object();
  w.key("candidates").begin_array();
  for (size_t k = 0; k < ids.size(); ++k) {
    const Candidate& x = pool[ids[k]];
    w.begin_object().key("arch").value(x.arch.to_text()).key("source").value(x.source);
    w.key("top1_val").value(x.top1_val).key("latency_ms").value(x.latency_ms);
    w.key("predicted_top1").value(x.pred_top1).key("predicted_ms").value(x.pred_ms);
    w.key("front").value(std::find(front.begin(), front.end(), k) != front.end()).end_object();
  }
  w.end_array();
  w.key("levels").begin_array();
  for (size_t l = 0; l < table.levels.size(); ++l) {
    const LevelEntry& e = table.levels[l];
    auto [lo, hi] = wilson95(test_results[l].correct, test_results[l].n);
    w.begin_object().key("arch").value(e.arch.to_text()).key("top1_val").value(e.top1_val);
    w.key("top1_test").value(e.top1_test).key("ci95").begin_array().value(lo).value(hi).end_array();
    w.key("latency_ms").value(e.latency_mean_ms).key("mflops").value(e.mflops);
    std::string hits(test_results[l].hit.begin(), test_results[l].hit.end());
    for (char& ch : hits) ch = ch ? '1' : '0';
    w.key("test_hits").value(hits).end_object();
  }
  w.end_array().end_object();
  write_file_atomic(beside(o.out, ".search.json"), w.str());

  char b[300];
  for (size_t l = 0; l < table.levels.size(); ++l) {
    const LevelEntry& e = table.levels[l];
    auto [lo, hi] = wilson95(test_results[l].correct, test_results[l].n);
    std::snprintf(b, sizeof b, "level %zu: %s  %.3f ms  val %.2f %%  test %.2f %% [%.2f, %.2f]", l,
                  e.arch.to_text().c_str(), e.latency_mean_ms, e.top1_val, e.top1_test, lo, hi);
    log(b);
    if (l > 0 && e.top1_test < table.levels[l - 1].top1_test) {
      auto [plo, phi] = wilson95(test_results[l - 1].correct, test_results[l - 1].n);
      std::snprintf(b, sizeof b, "  inversion: level %zu test %.2f %% [%.2f, %.2f] below level %zu %.2f %% [%.2f, %.2f]",
                    l, e.top1_test, lo, hi, l - 1, table.levels[l - 1].top1_test, plo, phi);
      log(b);
    }
  }
  std::snprintf(b, sizeof b,
                "search took %.0f s (predictor %.0f s, evolution %.0f s, measuring %.0f s); wrote %s, %s, %s",
                seconds_since(t0), t_predictor, t_search, t_measure, o.out.c_str(), pool_path.c_str(),
                beside(o.out, ".search.json").c_str());
  log(b);
}

}  // namespace

Spec search_space(const Spec& spec, const std::string& dims) {
  if (dims.empty()) return spec;
  bool w = false, d = false, k = false, r = false;
  std::stringstream in(dims);
  for (std::string t; std::getline(in, t, ',');) {
    if (t == "width") w = true;
    else if (t == "depth") d = true;
    else if (t == "kernel") k = true;
    else if (t == "resolution") r = true;
    else throw Error("--dims: unknown dimension '" + t + "', expected width, depth, kernel or resolution");
  }
  Spec s = spec;
  if (!w) s.expand_ratios = {spec.expand_ratios.back()};
  if (!d) s.depths = {spec.depths.back()};
  if (!k) s.kernel_sizes = {spec.kernel_sizes.back()};
  if (!r) s.resolutions = {spec.resolutions.back()};
  return s;
}

namespace {

// The latency of every candidate of the space, measured side by side on
// device (interleaved rounds), so the front and the levels' span compare
// figures taken under the same load. Returns how many it timed.
size_t time_side_by_side(const Supernet& net, const Spec& space, c10::Device device, uint64_t seed,
                         std::vector<Candidate>& pool) {
  std::vector<Candidate*> in;
  for (Candidate& c : pool)
    if (in_space(space, c.arch)) in.push_back(&c);
  const std::vector<LatencyStats> ls = measure_latencies_side_by_side(
      in.size(), [&](size_t i) { return Level::build(net, in[i]->arch, &in[i]->bn, CpuKernels::Fastest, device); }, 5, 10, 10, seed);
  for (size_t i = 0; i < in.size(); ++i) in[i]->latency_ms = ls[i].mean, in[i]->latency_p90 = ls[i].p90;
  return in.size();
}

// Another device's family from a CPU pool: accuracy and BN statistics do not
// depend on the device, so only each candidate's latency is measured there.
void search_pool_on_device(const Spec& spec, const SearchOptions& o) {
  const auto t0 = Clock::now();
  auto log = [&o](const std::string& s) { if (o.log) o.log(s); };
  if (o.pool.empty())
    throw Error("search --device " + o.device + ": needs --pool FILE (candidates calibrated and measured on the CPU)");
  if (o.device != "cuda") throw Error("search: device '" + o.device + "', expected cpu or cuda");
  const std::string why = cuda_unavailable_reason();
  if (!why.empty()) throw Error("search --device cuda: " + why);
  const Spec space = search_space(spec, o.dims);
  Supernet net = Supernet::open(spec, o.weights);
  std::vector<Candidate> pool = read_pool(o.pool, spec, net.sha256());
  log("measuring " + std::to_string(pool.size()) + " candidates of " + o.pool + " on " + system_info().gpu);
  const auto t = Clock::now();
  time_side_by_side(net, space, c10::Device(c10::kCUDA, 0), o.seed, pool);
  Timings tm;
  tm.measure = seconds_since(t);
  tm.t0 = t0;
  log("measured in " + std::to_string(int(tm.measure)) + " s");
  write_family(spec, space, net, pool, o, tm);
}

}  // namespace

void search(const Spec& spec, const SearchOptions& o) {
  const auto t0 = Clock::now();
  auto log = [&o](const std::string& s) { if (o.log) o.log(s); };
  if (o.out.empty()) throw Error("search: no output table");
  if (o.device != "cpu") return search_pool_on_device(spec, o);
  const Spec space = search_space(spec, o.dims);
  Supernet net = Supernet::open(spec, o.weights);
  const LatencyLut lut = LatencyLut::load(o.lut);
  const Dataset train = Dataset::open(o.train), val = Dataset::open(o.val, "--val").first(o.val_images);
  for (const Dataset* d : {&train, &val})
    if (int(d->classes().size()) != spec.classes)
      throw Error(d->name() + " has " + std::to_string(d->classes().size()) + " classes, spec " + spec.name +
                  " has " + std::to_string(spec.classes));
  const LatFn lat = [&](const Arch& a) { return lut.predict(spec, a); };
  const std::string pool_path = beside(o.out, ".pool.json");

  std::vector<Candidate> pool;
  if (!o.pool.empty()) {
    pool = read_pool(o.pool, spec, net.sha256());
    log("reusing " + std::to_string(pool.size()) + " measured candidates of " + o.pool);
  }
  auto measured = [&](const Arch& a) {  // the same network, whatever its skipped blocks say
    for (const Candidate& c : pool)
      if (c.arch.canonical(space) == a.canonical(space)) return true;
    return false;
  };
  double t_measure = 0;
  auto measure = [&](const Arch& a, const std::string& source) {
    const auto t = Clock::now();
    Candidate c;
    c.arch = a;
    c.source = source;
    set_threads(o.eval_threads);
    c.bn = calibrate_bn(net, a, train, 2000, 200, o.seed);
    c.top1_val = evaluate(net, a, c.bn, val).top1();
    c.pred_ms = lat(a);
    pool.push_back(c);
    t_measure += seconds_since(t);
    return pool.back();
  };

  // 1. Predictor data and fit.
  const auto t_pred = Clock::now();
  AccPredictor predictor;
  PredictorFit fit;
  if (!o.predictor.empty()) {
    predictor = AccPredictor::load(o.predictor, spec);
    log("accuracy predictor: " + o.predictor);
  } else {
    Rng rng(o.seed, 0xda7a);
    std::vector<Arch> archs;
    std::vector<double> top1;
    for (const Candidate& c : pool)
      if (c.source == "random") archs.push_back(c.arch), top1.push_back(c.top1_val / 100);
    while (int(archs.size()) < o.predictor_archs) {
      Arch a = sample_arch(space, rng);
      if (measured(a)) continue;
      const Candidate& c = measure(a, "random");
      archs.push_back(a);
      top1.push_back(c.top1_val / 100);
      if (archs.size() % 10 == 0) {
        log("predictor data: " + std::to_string(archs.size()) + " / " + std::to_string(o.predictor_archs) +
            " sub-networks measured (" + std::to_string(int(seconds_since(t0))) + " s)");
        write_pool(pool_path, spec, net.sha256(), o, pool);  // resumable with --pool
      }
    }
    predictor = AccPredictor::fit(spec, archs, top1, &fit, o.seed);
    const std::string pred_path = beside(o.out, ".acc-predictor.pt");
    predictor.save(pred_path);
    char b[200];
    std::snprintf(b, sizeof b, "accuracy predictor: %d train / %d hold-out, hold-out RMSE %.2f pp, Kendall tau %.3f -> %s",
                  fit.train, fit.holdout, fit.rmse_pp, fit.kendall_tau, pred_path.c_str());
    log(b);
  }
  const double t_predictor = seconds_since(t_pred);
  const AccFn acc = [&predictor](const std::vector<Arch>& as) { return predictor.predict(as); };

  // 2. Algorithm 1 seeding the evolution, swept over latency constraints.
  const auto t_sweep = Clock::now();
  const double lat_lo = lat(Arch::min(space)), lat_hi = lat(Arch::max(space));
  Rng rng(o.seed, 0x5ea2c4);
  // The space's smallest and largest sub-networks bound the front: always measured.
  std::vector<Arch> found{Arch::min(space), Arch::max(space)};
  for (int j = 0; j < o.sweep; ++j) {
    const double limit = lat_lo * std::pow(lat_hi / lat_lo, (j + 0.5) / o.sweep);
    // Accmax: the best predicted accuracy of random sub-networks under the constraint.
    double acc_max = 0;
    std::vector<Arch> probe;
    for (int i = 0; i < 2000 && probe.size() < 300; ++i) {
      Arch a = sample_arch(space, rng);
      if (lat(a) <= limit) probe.push_back(a);
    }
    for (double v : acc(probe)) acc_max = std::max(acc_max, v);
    RandomSearchParams rp;
    rp.acc_max = acc_max;
    rp.acc_range = o.acc_range / 100;
    rp.lat_init = 0.9 * limit;
    rp.lat_add = 0.01 * limit;
    rp.lat_max = limit;
    rp.itrn = 50;
    rp.itrmax = 2000;
    // The smallest sub-network meets every constraint of the sweep: the evolution always has a start.
    std::vector<Arch> seeds{Arch::min(space)};
    Arch a;
    while (seeds.size() < 26 && random_search(rp, [&] { return sample_arch(space, rng); }, acc, lat, seeds, &a))
      seeds.push_back(a);
    double best_acc = 0;
    EvolutionParams ep;
    std::vector<Arch> ranked;
    Arch best = evolve(space, ep, limit, acc, lat, seeds, rng, &best_acc, &ranked);
    // The predictor's error is as large as the gaps near the front, so the
    // best few of each constraint are measured, not only its winner.
    for (size_t i = 0; i < ranked.size() && int(i) < o.per_constraint; ++i)
      if (std::find(found.begin(), found.end(), ranked[i]) == found.end()) found.push_back(ranked[i]);
    char b[220];
    std::snprintf(b, sizeof b, "constraint %2d: %.3f ms: %zu seeds from Algorithm 1, best %s (predicted %.2f %%, %.3f ms)",
                  j, limit, seeds.size() - 1, best.to_text().c_str(), 100 * best_acc, lat(best));
    log(b);
  }
  const double t_search = seconds_since(t_sweep);
  for (const Arch& a : found)
    if (!measured(a)) {
      const Candidate& c = measure(a, "search");
      char b[200];
      std::snprintf(b, sizeof b, "measured %s: top-1 %.2f %% (val)", a.to_text().c_str(), c.top1_val);
      log(b);
    }
  {
    const auto t = Clock::now();
    set_threads(o.latency_threads);
    const size_t timed = time_side_by_side(net, space, c10::kCPU, o.seed, pool);
    t_measure += seconds_since(t);
    log("timed " + std::to_string(timed) + " candidates side by side in " + std::to_string(int(seconds_since(t))) + " s");
  }
  {
    std::vector<Arch> as;
    for (const Candidate& c : pool) as.push_back(c.arch);
    std::vector<double> p = acc(as);
    for (size_t i = 0; i < pool.size(); ++i) pool[i].pred_top1 = 100 * p[i];
  }
  write_pool(pool_path, spec, net.sha256(), o, pool);

  write_family(spec, space, net, pool, o, Timings{fit, t_predictor, t_search, t_measure, t0});
}

}  // namespace dofa

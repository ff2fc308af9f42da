#include "train.h"

#include <c10/core/GradMode.h>
#include <ATen/Functions.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "batch.h"
#include "error.h"
#include "evaluate.h"
#include "files.h"
#include "json_reader.h"
#include "supernet.h"
#include "system_info.h"
#include "weight_keys.h"

namespace dofa {

namespace {

using Clock = std::chrono::steady_clock;

// OFA's shared settings (numbers.md §2.2).
constexpr double kMomentum = 0.9, kWeightDecay = 3e-5, kLabelSmoothing = 0.1, kKdRatio = 1.0;

bool ends_with(const std::string& s, const char* suf) {
  size_t l = std::strlen(suf);
  return s.size() >= l && s.compare(s.size() - l, l, suf) == 0;
}
bool is_buffer(const std::string& k) { return ends_with(k, ".running_mean") || ends_with(k, ".running_var"); }
// OFA's no_decay_keys "bn#bias": neither BN parameters nor biases decay.
bool decays(const std::string& k) { return !ends_with(k, ".bias") && k.find(".bn.") == std::string::npos; }

// The choices open in a phase: the largest `n` of each list.
Spec open_space(const Spec& s, const TrainPhase& p) {
  Spec o = s;
  auto keep = [](std::vector<int>& v, int n) { v.erase(v.begin(), v.end() - std::min<size_t>(v.size(), size_t(n))); };
  keep(o.kernel_sizes, p.kernels);
  keep(o.expand_ratios, p.expands);
  keep(o.depths, p.depths);
  return o;
}

// OFA's init for training from scratch (init_models, "he_fout"): conv weights
// N(0, sqrt(2 / fan_out)), BN gamma 1 and beta 0, linear U(+-1/sqrt(fan_out)),
// biases 0, kernel transform matrices the identity.
TensorMap initial_weights(const Spec& spec, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  TensorMap w;
  for (const KeyShape& k : supernet_keys(spec)) {
    const std::string& n = k.name;
    at::Tensor t = at::zeros(k.shape, at::kFloat);
    if (ends_with(n, "_matrix")) {
      t = at::eye(k.shape[0], at::kFloat);
    } else if (ends_with(n, ".running_var") || (n.find(".bn.") != std::string::npos && ends_with(n, ".weight"))) {
      t.fill_(1.0);
    } else if (ends_with(n, ".running_mean") || ends_with(n, ".bias")) {
      // zeros
    } else if (k.shape.size() == 2) {
      double b = 1.0 / std::sqrt(double(k.shape[0]));
      t.uniform_(-b, b, gen);
    } else {
      int64_t fan_out = k.shape[0] * k.shape[2] * k.shape[3];
      if (k.shape[1] == 1 && n.find("depth_conv") != std::string::npos) fan_out = k.shape[2] * k.shape[3];
      t.normal_(0.0, std::sqrt(2.0 / double(fan_out)), gen);
    }
    w[n] = t;
  }
  return w;
}

void select(TensorMap& w, const std::string& key, int64_t dim, const at::Tensor& idx) {
  at::Tensor& t = w.at(key);
  t = t.index_select(dim, idx).contiguous();
}
void select_bn(TensorMap& w, const std::string& bn, const at::Tensor& idx) {
  for (const char* s : {".weight", ".bias", ".running_mean", ".running_var"}) select(w, bn + s, 0, idx);
}

// OFA's re_organize_middle_weights (dynamic_layers.py): middle channels in
// decreasing L1 importance of the point-linear weights, so that a smaller
// expand ratio keeps the most important prefix; SE's hidden channels likewise
// by the L1 norm of their expand weights.
void sort_middle_channels(TensorMap& w, const Spec& spec) {
  c10::NoGradGuard no_grad;
  for (const SuperBlock& b : spec.blocks) {
    if (b.stage < 0) continue;
    const BlockKeys k = block_keys(b);
    at::Tensor idx = std::get<1>(w.at(k.pw_conv + ".weight").abs().sum({0, 2, 3}).sort(0, true));
    select(w, k.pw_conv + ".weight", 1, idx);
    select_bn(w, k.dw_bn, idx);
    select(w, k.dw_conv + ".conv.weight", 0, idx);
    if (b.se) {
      select(w, k.se + ".fc.expand.weight", 0, idx);
      select(w, k.se + ".fc.expand.bias", 0, idx);
      select(w, k.se + ".fc.reduce.weight", 1, idx);
      at::Tensor se_idx = std::get<1>(w.at(k.se + ".fc.expand.weight").abs().sum({0, 2, 3}).sort(0, true));
      select(w, k.se + ".fc.expand.weight", 1, se_idx);
      select(w, k.se + ".fc.reduce.weight", 0, se_idx);
      select(w, k.se + ".fc.reduce.bias", 0, se_idx);
    }
    select_bn(w, k.ib_bn, idx);
    select(w, k.ib_conv + ".weight", 0, idx);
  }
}

// Cross-entropy with label smoothing plus OFA's KD term, CE against the
// teacher's softmax (progressive_shrinking.py, kd_type "ce").
at::Tensor loss_of(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher_probs) {
  at::Tensor logp = at::log_softmax(logits, 1);
  at::Tensor nll = -logp.gather(1, labels.unsqueeze(1)).mean();
  at::Tensor loss = (1 - kLabelSmoothing) * nll - kLabelSmoothing * logp.mean(1).mean();
  if (teacher_probs.defined()) loss = loss + kKdRatio * -(teacher_probs * logp).sum(1).mean();
  return loss;
}

// Learning rate at step t of T: linear warmup over W steps, then cosine to 0.
double lr_at(double base, int64_t t, int64_t T, int64_t W) {
  if (t < W) return base * double(t + 1) / double(W);
  const double x = double(t - W) / double(std::max<int64_t>(1, T - W));
  return 0.5 * base * (1 + std::cos(M_PI * x));
}

std::string fmt_time(double s) {
  char b[32];
  int t = int(s + 0.5);
  if (t >= 3600) std::snprintf(b, sizeof b, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(b, sizeof b, "%d:%02d", t / 60, t % 60);
  return b;
}

bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

struct PhaseEval {
  std::string phase, which, arch;
  double top1 = 0;
};

struct State {
  int phase = 0;
  int64_t step = 0;
  std::vector<double> seconds;  // per phase, so far
  std::vector<PhaseEval> evals;
};

std::string state_json(const State& s, const Spec& spec, const TrainOptions& o,
                       const std::vector<TrainPhase>& phases, int n_train) {
  JsonWriter w;
  w.begin_object();
  w.key("spec").value(spec.name);
  w.key("data").value(o.data);
  w.key("train_images").value(n_train);
  w.key("batch").value(o.batch);
  w.key("seed").value((long long)o.seed);
  w.key("scale").value(o.scale);
  w.key("sandwich").value(o.sandwich);
  w.key("threads").value(o.threads);
  w.key("phase").value(s.phase);
  w.key("step").value((long long)s.step);
  double total = 0;
  w.key("phases").begin_array();
  for (size_t i = 0; i < phases.size(); ++i) {
    const TrainPhase& p = phases[i];
    double sec = i < s.seconds.size() ? s.seconds[i] : 0;
    total += sec;
    w.begin_object().key("name").value(p.name).key("epochs").value(p.epochs).key("lr").value(p.lr);
    w.key("subnets").value(p.subnets).key("seconds").value(sec).end_object();
  }
  w.end_array();
  w.key("seconds").value(total);
  w.key("evals").begin_array();
  for (const PhaseEval& e : s.evals)
    w.begin_object().key("phase").value(e.phase).key("subnet").value(e.which).key("arch").value(e.arch)
        .key("top1_val").value(e.top1).end_object();
  w.end_array();
  w.end_object();
  return w.str();
}

State read_state(const std::string& path, const Spec& spec, const TrainOptions& o) {
  JsonValue j = JsonValue::parse_file(path);
  auto same = [&](const char* key, const std::string& have, const std::string& want) {
    if (have != want)
      throw Error(path + ": checkpoint was made with " + key + " " + have + ", this run has " + want +
                  " (pass --restart to start over)");
  };
  same("spec", j["spec"].as_string(), spec.name);
  same("data", j["data"].as_string(), o.data);
  same("batch", std::to_string(j["batch"].as_int()), std::to_string(o.batch));
  same("seed", std::to_string(j["seed"].as_int64()), std::to_string(o.seed));
  same("scale", std::to_string(j["scale"].as_double()), std::to_string(o.scale));
  same("sandwich", j["sandwich"].as_bool() ? "on" : "off", o.sandwich ? "on" : "off");
  State s;
  s.phase = j["phase"].as_int();
  s.step = j["step"].as_int64();
  JsonValue ph = j["phases"];
  for (size_t i = 0; i < ph.size(); ++i) s.seconds.push_back(ph.at(i)["seconds"].as_double());
  JsonValue ev = j["evals"];
  for (size_t i = 0; i < ev.size(); ++i)
    s.evals.push_back({ev.at(i)["phase"].as_string(), ev.at(i)["subnet"].as_string(), ev.at(i)["arch"].as_string(),
                       ev.at(i)["top1_val"].as_double()});
  return s;
}

}  // namespace

std::vector<TrainPhase> progressive_shrinking(const Spec& spec, double scale) {
  const int nk = int(spec.kernel_sizes.size()), ne = int(spec.expand_ratios.size()), nd = int(spec.depths.size());
  // OFA's phases (numbers.md §2.1) with their learning-rate ratios and
  // sub-networks per step; epochs shortened from 180 / 120 / 25 to fit a
  // 2-core CPU, the PS rates doubled for the shorter phases.
  std::vector<TrainPhase> p = {
      {"full", 1, 1, 1, 16.0, 0.3, 0.15, 1, false, false},
      {"kernel", nk, 1, 1, 3.0, 0.1, 0.06, 1, false, true},
      {"depth-1", nk, 1, std::min(2, nd), 1.0, 0.0, 0.01, 2, false, true},
      {"depth-2", nk, 1, nd, 3.0, 0.05, 0.03, 2, false, true},
      {"expand-1", nk, std::min(2, ne), nd, 1.0, 0.0, 0.01, 4, true, true},
      {"expand-2", nk, ne, nd, 7.0, 0.05, 0.03, 4, true, true},
  };
  for (TrainPhase& ph : p) {
    ph.epochs *= scale;
    ph.warmup_epochs *= scale;
  }
  return p;
}

void train(const Spec& spec, const TrainOptions& o) {
  if (o.out.empty()) throw Error("train: no output file");
  if (o.batch < 2) throw Error("--batch " + std::to_string(o.batch) + ": expected at least 2");
  auto log = [&o](const std::string& s) { if (o.log) o.log(s); };
  set_threads(o.threads);

  Dataset train_set = Dataset::open(o.data);
  if (o.limit > 0) train_set = train_set.first(o.limit);
  Dataset val_set = Dataset::open(o.val, "--val").first(o.val_images);
  if (train_set.size() < o.batch)
    throw Error("--data " + o.data + ": " + std::to_string(train_set.size()) + " images, fewer than a batch of " +
                std::to_string(o.batch));
  if (int(train_set.classes().size()) != spec.classes)
    throw Error("--data " + o.data + " has " + std::to_string(train_set.classes().size()) + " classes, spec " +
                spec.name + " expects " + std::to_string(spec.classes));

  const std::vector<TrainPhase> phases = progressive_shrinking(spec, o.scale);
  const std::string ckpt = o.out + ".ckpt", state_path = ckpt + "/state.json";
  const std::string weights_path = ckpt + "/state.pt", teacher_path = ckpt + "/teacher.pt";
  const int64_t steps_per_epoch = train_set.size() / o.batch;

  State st;
  TensorMap weights, momentum, teacher_w;
  if (!o.restart && exists(state_path)) {
    st = read_state(state_path, spec, o);
    for (auto& [k, t] : load_tensors(weights_path)) {
      if (k.rfind("momentum/", 0) == 0) momentum[k.substr(9)] = t;
      else weights[k] = t;
    }
    if (exists(teacher_path)) teacher_w = load_tensors(teacher_path);
    log("resuming " + ckpt + " at phase " + phases[size_t(std::min<int>(st.phase, int(phases.size()) - 1))].name +
        ", step " + std::to_string(st.step));
  } else {
    mkdir(ckpt.c_str(), 0755);
    weights = initial_weights(spec, o.seed);
  }
  st.seconds.resize(phases.size(), 0.0);
  store_channels_last(weights);  // the layout of the channels-last forward (supernet.h)
  store_channels_last(teacher_w);

  auto save = [&]() {
    TensorMap all = weights;
    for (auto& [k, t] : momentum) all["momentum/" + k] = t;
    save_tensors(weights_path, all);
    write_file_atomic(state_path, state_json(st, spec, o, phases, train_set.size()));
  };

  for (; st.phase < int(phases.size()); ++st.phase, st.step = 0) {
    const TrainPhase& ph = phases[size_t(st.phase)];
    const Spec space = open_space(spec, ph);
    const int64_t total = std::max<int64_t>(1, int64_t(std::lround(ph.epochs * double(steps_per_epoch))));
    const int64_t warmup = int64_t(std::lround(ph.warmup_epochs * double(steps_per_epoch)));
    if (st.step == 0) {
      if (ph.sort_expand) sort_middle_channels(weights, spec);
      momentum.clear();  // each phase is a new run in OFA (a fresh optimizer)
    }
    if (st.step >= total) continue;
    log("phase " + ph.name + ": " + std::to_string(total) + " steps of " + std::to_string(o.batch) + " (" +
        std::to_string(ph.epochs).substr(0, 4) + " epochs), lr " + std::to_string(ph.lr).substr(0, 6) + ", " +
        std::to_string(ph.subnets) + " sub-network(s) per step");

    for (auto& [k, t] : weights)
      if (!is_buffer(k)) t.requires_grad_(true);
    Supernet net(spec, weights);  // shares the tensors
    std::unique_ptr<Supernet> teacher;
    if (ph.distill) {
      if (teacher_w.empty()) throw Error(teacher_path + ": missing; the full-network phase writes it");
      teacher = std::make_unique<Supernet>(spec, teacher_w);
    }
    const Arch teacher_arch = Arch::max(spec);

    ForwardOptions train_fw;
    train_fw.mode = BnMode::Train;
    train_fw.channels_last = true;
    ForwardOptions teacher_fw;  // OFA quirk: the teacher runs in train mode, batch statistics
    teacher_fw.mode = BnMode::Calibrate;
    teacher_fw.channels_last = true;

    const auto phase_start = Clock::now();
    const double seconds_before = st.seconds[size_t(st.phase)];
    auto last_save = Clock::now(), last_draw = Clock::now() - std::chrono::seconds(1);
    const int64_t first_step = st.step;
    double run_loss = 0, run_acc = 0;
    std::vector<int> order;
    int64_t order_epoch = -1;
    for (; st.step < total; ++st.step) {
      const int64_t epoch = st.step / steps_per_epoch;
      if (epoch != order_epoch) {
        order = shuffled(train_set.size(), o.seed, uint64_t(st.phase) * 1000 + uint64_t(epoch));
        order_epoch = epoch;
      }
      Rng rng(o.seed, uint64_t(st.phase) << 32 | 1, uint64_t(st.step));
      const int r = spec.resolutions[size_t(rng.below(int(spec.resolutions.size())))];
      Batch b = make_batch(train_set, order, size_t(st.step % steps_per_epoch) * size_t(o.batch), size_t(o.batch),
                           spec, r, &rng);
      at::Tensor soft;
      if (teacher) {
        c10::NoGradGuard ng;
        soft = at::softmax(teacher->forward(b.x, {teacher_arch.ks, teacher_arch.e, teacher_arch.d, r}, teacher_fw), 1);
      }
      const double lr = lr_at(ph.lr, st.step, total, warmup);
      double step_loss = 0;
      for (int k = 0; k < ph.subnets; ++k) {
        Arch a = Arch::random(space, Rng::mix(o.seed ^ (uint64_t(st.phase) << 56) ^ (uint64_t(st.step) << 8) ^ uint64_t(k)));
        // Sandwich rule (Yu & Huang 2019): the last sample is the smallest and,
        // with three or more per step, the first the largest; the rest random.
        if (o.sandwich && ph.subnets > 1 && k == ph.subnets - 1) a = Arch::min(space);
        if (o.sandwich && ph.subnets > 2 && k == 0) a = Arch::max(space);
        a.r = r;
        at::Tensor logits = net.forward(b.x, a, train_fw);
        at::Tensor loss = loss_of(logits, b.labels, soft);
        loss.backward();
        step_loss += loss.item<double>() / ph.subnets;
        if (k == 0) run_acc = 0.98 * run_acc + 0.02 * logits.argmax(1).eq(b.labels).to(at::kFloat).mean().item<double>();
      }
      {
        // SGD, momentum 0.9, Nesterov, weight decay 3e-5 (numbers.md §2.2).
        c10::NoGradGuard ng;
        for (auto& [key, p] : weights) {
          if (is_buffer(key) || !p.grad().defined()) continue;
          at::Tensor g = p.grad();
          if (decays(key)) g = g + kWeightDecay * p;
          at::Tensor& buf = momentum[key];
          if (!buf.defined()) buf = g.clone();
          else buf.mul_(kMomentum).add_(g);
          p.sub_(lr * (g + kMomentum * buf));
          p.mutable_grad() = at::Tensor();
        }
      }
      run_loss = st.step == first_step ? step_loss : 0.98 * run_loss + 0.02 * step_loss;
      if (st.step == first_step) run_acc = run_acc / 0.02;

      const auto now = Clock::now();
      st.seconds[size_t(st.phase)] = seconds_before + std::chrono::duration<double>(now - phase_start).count();
      if (o.progress && (now - last_draw > std::chrono::milliseconds(500) || st.step + 1 == total)) {
        last_draw = now;
        const double done = double(st.step + 1 - first_step);
        const double per = std::chrono::duration<double>(now - phase_start).count() / done;
        const int width = 24, fill = int(width * double(st.step + 1) / double(total));
        char line[256];
        std::snprintf(line, sizeof line, "%-8s [%s%s] %lld/%lld  %s left  loss %.3f  acc %.1f%%  %.0f img/s",
                      ph.name.c_str(), std::string(size_t(fill), '#').c_str(),
                      std::string(size_t(width - fill), '.').c_str(), (long long)(st.step + 1), (long long)total,
                      fmt_time(per * double(total - st.step - 1)).c_str(), run_loss, 100 * run_acc,
                      o.batch / per);
        o.progress(line);
      }
      if (std::chrono::duration<double>(now - last_save).count() >= o.checkpoint_seconds) {
        ++st.step;  // the step just finished
        save();
        --st.step;
        last_save = now;
      }
    }
    for (auto& [k, t] : weights) t = t.detach().requires_grad_(false);

    // Phase end: the open space's largest and smallest, calibrated, on the validation split.
    for (const char* which : {"largest", "smallest"}) {
      Arch a = std::string(which) == "largest" ? Arch::max(space) : Arch::min(space);
      Supernet eval_net(spec, weights);
      BnStats bn = calibrate_bn(eval_net, a, train_set, 2000, 200, o.seed);
      EvalResult r = evaluate(eval_net, a, bn, val_set);
      st.evals.push_back({ph.name, which, a.to_text(), r.top1()});
      log("phase " + ph.name + " done in " + fmt_time(st.seconds[size_t(st.phase)]) + ": " + which + " " +
          a.to_text() + " top-1 " + std::to_string(r.top1()).substr(0, 5) + " % on " + o.val + " (" +
          std::to_string(r.n) + " images)");
    }
    if (!ph.distill) {
      teacher_w.clear();
      for (auto& [k, t] : weights) teacher_w[k] = t.clone();  // clone keeps the layout
      save_tensors(teacher_path, teacher_w);
    }
    st.step = total;
    save();
  }

  TensorMap out;
  for (auto& [k, t] : weights) out[k] = t.detach();
  save_tensors(o.out, out);
  const std::string log_path = o.out + ".train.json";
  write_file_atomic(log_path, state_json(st, spec, o, phases, train_set.size()));
  double total = 0;
  for (double s : st.seconds) total += s;
  log("wrote " + o.out + " and " + log_path + "; training took " + fmt_time(total));
}

}  // namespace dofa

#include "search_algorithms.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "error.h"

namespace dofa {

Arch sample_arch(const Spec& s, Rng& rng) {
  auto pick = [&rng](const std::vector<int>& xs) { return xs[size_t(rng.below(int(xs.size())))]; };
  Arch a;
  for (int i = 0; i < s.num_elastic_blocks(); ++i) {
    a.ks.push_back(pick(s.kernel_sizes));
    a.e.push_back(pick(s.expand_ratios));
  }
  for (size_t i = 0; i < s.stages.size(); ++i) a.d.push_back(pick(s.depths));
  a.r = pick(s.resolutions);
  return a;
}

bool random_search(const RandomSearchParams& p, const std::function<Arch()>& sample, const AccFn& acc,
                   const LatFn& lat, const std::vector<Arch>& parents, Arch* found, std::vector<double>* lat_trace) {
  double limit = p.lat_init;
  for (int i = 0; i < p.itrmax; ++i) {
    if (i % p.itrn == 0 && limit < p.lat_max) limit += p.lat_add;  // lines 5-7
    if (lat_trace) lat_trace->push_back(limit);
    Arch a = sample();
    const double accp = acc({a}).front(), latp = lat(a);
    if (accp > p.acc_max - p.acc_range && latp < limit &&
        std::find(parents.begin(), parents.end(), a) == parents.end()) {
      *found = a;
      return true;
    }
  }
  return false;
}

namespace {

// Redraws make(...) until the latency holds; gives up (nullopt-like: false) after many tries.
bool draw_valid(const std::function<Arch()>& make, const LatFn& lat, double max_latency, Arch* out) {
  for (int t = 0; t < 500; ++t) {
    Arch a = make();
    if (lat(a) <= max_latency) {
      *out = a;
      return true;
    }
  }
  return false;
}

}  // namespace

Arch evolve(const Spec& s, const EvolutionParams& p, double max_latency, const AccFn& acc, const LatFn& lat,
            const std::vector<Arch>& seeds, Rng& rng, double* best_acc, std::vector<Arch>* ranked) {
  std::vector<Arch> pop;
  for (const Arch& a : seeds)
    if (int(pop.size()) < p.population && lat(a) <= max_latency) pop.push_back(a);
  Arch a;
  while (int(pop.size()) < p.population) {
    if (draw_valid([&] { return sample_arch(s, rng); }, lat, max_latency, &a)) {
      pop.push_back(a);
    } else if (!pop.empty()) {
      // A tight constraint that random draws rarely meet: start from copies of the valid seeds.
      pop.push_back(pop[size_t(rng.below(int(pop.size())))]);
    } else {
      throw Error("evolution: no sub-network within " + std::to_string(max_latency) + " ms in 500 draws");
    }
  }
  std::vector<double> fit = acc(pop);
  const int n_parents = std::max(1, int(std::lround(p.population * p.parent_ratio)));
  const int n_mutate = int(std::lround(p.population * p.mutation_ratio));
  auto pick = [&rng](const std::vector<int>& xs) { return xs[size_t(rng.below(int(xs.size())))]; };
  Arch best = pop[0];
  double best_fit = -1e9;
  for (int it = 0; it < p.iterations; ++it) {
    std::vector<size_t> order(pop.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&fit](size_t x, size_t y) { return fit[x] > fit[y]; });
    std::vector<Arch> parents;
    std::vector<double> parent_fit;
    for (int i = 0; i < n_parents && i < int(order.size()); ++i) {
      parents.push_back(pop[order[size_t(i)]]);
      parent_fit.push_back(fit[order[size_t(i)]]);
    }
    if (parent_fit[0] > best_fit) best_fit = parent_fit[0], best = parents[0];
    std::vector<Arch> children;
    for (int i = 0; i < n_mutate; ++i) {
      const Arch& par = parents[size_t(rng.below(int(parents.size())))];
      auto mutate = [&]() {
        Arch c = par;
        if (rng.uniform() < p.mutate_prob) c.r = pick(s.resolutions);
        for (size_t b = 0; b < c.ks.size(); ++b)
          if (rng.uniform() < p.mutate_prob) c.ks[b] = pick(s.kernel_sizes), c.e[b] = pick(s.expand_ratios);
        for (size_t d = 0; d < c.d.size(); ++d)
          if (rng.uniform() < p.mutate_prob) c.d[d] = pick(s.depths);
        return c;
      };
      if (draw_valid(mutate, lat, max_latency, &a)) children.push_back(a);
    }
    for (int i = n_mutate; i < p.population; ++i) {
      const Arch& x = parents[size_t(rng.below(int(parents.size())))];
      const Arch& y = parents[size_t(rng.below(int(parents.size())))];
      auto cross = [&]() {
        Arch c = x;
        for (size_t b = 0; b < c.ks.size(); ++b) {
          c.ks[b] = rng.below(2) ? x.ks[b] : y.ks[b];
          c.e[b] = rng.below(2) ? x.e[b] : y.e[b];
        }
        for (size_t d = 0; d < c.d.size(); ++d) c.d[d] = rng.below(2) ? x.d[d] : y.d[d];
        c.r = rng.below(2) ? x.r : y.r;
        return c;
      };
      if (draw_valid(cross, lat, max_latency, &a)) children.push_back(a);
    }
    std::vector<double> child_fit = acc(children);
    pop = parents;
    fit = parent_fit;
    pop.insert(pop.end(), children.begin(), children.end());
    fit.insert(fit.end(), child_fit.begin(), child_fit.end());
  }
  for (size_t i = 0; i < pop.size(); ++i)
    if (fit[i] > best_fit) best_fit = fit[i], best = pop[i];
  if (best_acc) *best_acc = best_fit;
  if (ranked) {
    std::vector<size_t> order(pop.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&fit](size_t x, size_t y) { return fit[x] > fit[y]; });
    ranked->clear();
    for (size_t i : order) {
      const Arch c = pop[i].canonical(s);
      if (std::find(ranked->begin(), ranked->end(), c) == ranked->end()) ranked->push_back(c);
    }
  }
  return best;
}

std::vector<size_t> pareto_front(const std::vector<double>& latency, const std::vector<double>& accuracy) {
  std::vector<size_t> order(latency.size());
  std::iota(order.begin(), order.end(), 0);
  // By latency, then the more accurate first: a point is on the front when it
  // beats the accuracy of everything faster.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return latency[a] != latency[b] ? latency[a] < latency[b] : accuracy[a] > accuracy[b];
  });
  std::vector<size_t> front;
  double best = -1e300;
  for (size_t i : order)
    if (accuracy[i] > best) {
      front.push_back(i);
      best = accuracy[i];
    }
  return front;
}

std::vector<size_t> choose_levels(const std::vector<size_t>& front, const std::vector<double>& latency, int n) {
  if (int(front.size()) <= n) return front;
  std::vector<size_t> chosen{0};
  const double lo = std::log(latency[front.front()]), hi = std::log(latency[front.back()]);
  for (int j = 1; j < n - 1; ++j) {
    const double target = lo + (hi - lo) * j / (n - 1);
    size_t best = 0;
    double dist = 1e300;
    for (size_t i = chosen.back() + 1; i + (n - 1 - j) < front.size(); ++i) {
      double d = std::fabs(std::log(latency[front[i]]) - target);
      if (d < dist) dist = d, best = i;
    }
    chosen.push_back(best);
  }
  chosen.push_back(front.size() - 1);
  std::vector<size_t> out;
  for (size_t c : chosen) out.push_back(front[c]);
  return out;
}

}  // namespace dofa

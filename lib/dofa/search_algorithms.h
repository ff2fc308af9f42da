// The search algorithms of the design time, free of any model: Dynamic-OFA's
// Algorithm 1 (random search under an accuracy window with a relaxing latency
// constraint), OFA's evolutionary search (ofa-facts §7.1), the Pareto front
// and the choice of levels from it.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "arch.h"
#include "augment.h"

namespace dofa {

using AccFn = std::function<std::vector<double>(const std::vector<Arch>&)>;  // batched, top-1 fraction
using LatFn = std::function<double(const Arch&)>;                            // ms

// Dynamic-OFA paper, Algorithm 1: Lat starts at lat_init and grows by lat_add
// every itrn iterations while below lat_max; returns the first random arch
// with predicted accuracy > acc_max - acc_range and latency < Lat that is not
// among parents. lat_trace (optional) gets Lat at every iteration.
struct RandomSearchParams {
  double acc_max = 1, acc_range = 0.01;
  double lat_init = 0, lat_add = 0, lat_max = 0;
  int itrn = 50, itrmax = 5000;
};
bool random_search(const RandomSearchParams& p, const std::function<Arch()>& sample, const AccFn& acc,
                   const LatFn& lat, const std::vector<Arch>& parents, Arch* found,
                   std::vector<double>* lat_trace = nullptr);

// OFA's EvolutionFinder: population 100, top 25 % as parents, 50 % of the
// children by mutation (each of r, every block's (k, e) and every stage's d
// resampled with mutate_prob), the rest by uniform crossover; every child is
// redrawn until its latency is within the constraint. seeds start the
// population (the rest is rejection-sampled). Returns the best arch found;
// ranked (optional) gets the final population's distinct networks
// (canonical archs, arch.h), most accurate first.
struct EvolutionParams {
  int population = 100, iterations = 100;
  double parent_ratio = 0.25, mutation_ratio = 0.5, mutate_prob = 0.1;
};
Arch evolve(const Spec& space, const EvolutionParams& p, double max_latency, const AccFn& acc, const LatFn& lat,
            const std::vector<Arch>& seeds, Rng& rng, double* best_acc = nullptr,
            std::vector<Arch>* ranked = nullptr);

// A uniformly random arch of the space (each list of the spec), as Arch::random.
Arch sample_arch(const Spec& space, Rng& rng);

// Indices of the points no other point beats on both axes (lower latency,
// higher accuracy; ties on both keep the first), sorted by latency.
std::vector<size_t> pareto_front(const std::vector<double>& latency, const std::vector<double>& accuracy);

// n levels from a Pareto front (indices sorted by latency): its fastest and
// its most accurate point and, between them, the points nearest to latencies
// spaced evenly on a log scale. Fewer when the front is shorter.
std::vector<size_t> choose_levels(const std::vector<size_t>& front, const std::vector<double>& latency, int n);

}  // namespace dofa

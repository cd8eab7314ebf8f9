// experiments/data/label_noise.h — the reference's label transformations, bit-exact (SPEC 5,
// appendix A). Pure functions of (labels in dataset order, seed, fraction); every draw comes from
// numpy's legacy RandomState (engine/rng_compat.h). Labels are int64 [N] in [0, C).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdd::exp {

// n = ceil(N * f) computed in double, as the reference.
int64_t ceil_count(int64_t n, double fraction);

// SPEC 5.1: victims = first ceil(N f) of RandomState(seed+1).permutation(N); the i-th victim gets the
// i-th value of RandomState(seed).randint(C, size=n) (may equal its old label).
std::vector<int64_t> random_labels(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                   int64_t seed);

// Which asymmetric map a dataset uses (SPEC 5.4).
enum class AsymmetricMap { none, mnist, cifar10, cifar100 };
AsymmetricMap asymmetric_map_for(const std::string& dataset_name);  // fashion_mnist -> mnist

// SPEC 5.2: fresh RandomState(seed+2+idx).multinomial(1, P[label]) per example.
std::vector<int64_t> symmetric_noise(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                     int64_t seed);
// SPEC 5.3: c -> (c+1) mod C with probability f; RandomState(seed+3+idx).
std::vector<int64_t> pairflip_noise(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                    int64_t seed);
// SPEC 5.4: CIFAR-10 exact per-class flips (RandomState(seed+i).shuffle of class i's indices);
// MNIST map and CIFAR-100 index blocks with RandomState(seed+idx).multinomial.
std::vector<int64_t> asymmetric_noise(const std::vector<int64_t>& labels, int64_t num_classes, double fraction,
                                      int64_t seed, AsymmetricMap map);

// Dispatch on noisy_labels_type ("symmetric" | "pairflip" | "asymmetric"); UserError for other types
// and for asymmetric noise on a dataset without a map.
std::vector<int64_t> noisy_labels(const std::vector<int64_t>& labels, int64_t num_classes, const std::string& type,
                                  double fraction, int64_t seed, const std::string& dataset_name);

// SPEC 5.6: the first ceil(N s) entries of RandomState(seed+1).permutation(N), in permutation order.
std::vector<int64_t> subsample_indices(int64_t n, double fraction, int64_t seed);

// SPEC 5.7: RandomState(seed).randint(4, size=n).
std::vector<int64_t> rotation_labels(int64_t n, int64_t seed);

}  // namespace sdd::exp

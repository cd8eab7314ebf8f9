// experiments/step.h — training positions and the step-string grammar (SPEC 2.8).
//
// A Step is a global iteration count t >= 0 plus the iterations per epoch (ipe) it was measured with;
// ep = t / ipe, it = t % ipe. Step strings: "<E>ep", "<I>it", "<E>ep<I>it" with canonical decimal
// integers (the string must round-trip exactly). In the combined form a negative part is accepted when
// E*ipe + I >= 0 (as the original); single parts must be >= 0.
// ipe = ceil(N_train * (subsample_fraction or 1) / batch_size) with N_train per dataset:
// mnist / fashion_mnist 60000, cifar10 / cifar100 50000, tiny_imagenet 100000, imagenet 1281167.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace sdd::exp {

class Step {
 public:
  Step() = default;
  // Throws UserError when iteration < 0 or ipe <= 0.
  Step(int64_t iteration, int64_t ipe);

  static Step from_iteration(int64_t iteration, int64_t ipe) { return Step(iteration, ipe); }
  static Step from_epoch(int64_t ep, int64_t it, int64_t ipe);
  // Parses a step string ("160ep", "1000it", "1ep100it"); UserError on a malformed string.
  static Step from_str(const std::string& s, int64_t ipe);
  // Exactly "0ep", "0it" or "0ep0it" (string comparison, as the original).
  static bool str_is_zero(const std::string& s);
  // True when from_str would accept `s` at some ipe (negative combined parts allowed).
  static bool is_valid_str(const std::string& s);

  int64_t iteration() const { return iteration_; }
  int64_t ipe() const { return ipe_; }
  int64_t ep() const { return iteration_ / ipe_; }
  int64_t it() const { return iteration_ % ipe_; }
  // "ep<E>_it<I>" as used in file names (model_ep2_it218).
  std::string ep_it() const;
  // "<E>ep<I>it", a step string that parses back to this step.
  std::string str() const;

  // Comparisons require equal ipe (UserError otherwise, as the original refuses to compare).
  bool operator==(const Step& o) const;
  bool operator!=(const Step& o) const { return !(*this == o); }
  bool operator<(const Step& o) const;
  bool operator<=(const Step& o) const { return *this < o || *this == o; }
  bool operator>(const Step& o) const { return o < *this; }
  bool operator>=(const Step& o) const { return o <= *this; }

 private:
  void check_same_ipe(const Step& o) const;
  int64_t iteration_ = 0;
  int64_t ipe_ = 1;
};

// Training-set size of a dataset name (accepts "tinyimagenet" as an alias of tiny_imagenet).
// UserError for an unknown dataset.
int64_t num_train_examples(const std::string& dataset_name);

// ceil(N * (subsample_fraction or 1) / batch_size), computed in double as Python does.
int64_t iterations_per_epoch(const std::string& dataset_name, int64_t batch_size,
                             std::optional<double> subsample_fraction = std::nullopt);

}  // namespace sdd::exp

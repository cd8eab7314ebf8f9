// experiments/branches/randomly_prune.cpp — SPEC 9.3: trunk mask L shuffled with --seed
// (randomly_pruned_mask), --layers_to_ignore tensors set to all ones, saved into the branch; start
// weights and schedule by --start_at:
//   rewind  trunk level-L weights at train_start_step, schedule from train_start_step
//   init    trunk level-L weights at step 0, schedule from 0
//   end     trunk level-L final weights (finetune levels >= 1: at the finetune end), schedule from 0
// Trained with the trunk's dataset and training hyperparameters; freeze type always zero.
// --strategy=even is rejected by the parser (DESIGN fix 11).
#include <algorithm>
#include <cstring>
#include <sstream>

#include "engine/errors.h"
#include "engine/rng.h"
#include "experiments/branches/branch.h"
#include "experiments/branches/branch_common.h"
#include "experiments/runners/level_models.h"
#include "experiments/runners/paths.h"

namespace sdd::exp {
namespace {

// flat[perm[j]] -> out[j]: new_flat = old_flat[perm].
std::vector<float> permuted(const std::vector<float>& flat, const std::vector<int64_t>& perm) {
  std::vector<float> out(flat.size());
  for (size_t j = 0; j < perm.size(); ++j) out[j] = flat[static_cast<size_t>(perm[j])];
  return out;
}

Tensor tensor_like(const Tensor& shape_of, const float* values) {
  Tensor t = Tensor::zeros(shape_of.shape());
  std::memcpy(t.data<float>(), values, static_cast<size_t>(t.numel()) * sizeof(float));
  return t;
}

}  // namespace

pruning::Mask randomly_pruned_mask(const pruning::Mask& m, const std::string& strategy, int64_t seed,
                                   const std::string& layers_to_ignore) {
  SDD_USER_CHECK(strategy == "layerwise" || strategy == "global" || strategy == "identity",
                 "randomly_prune --strategy='" << strategy << "' is not supported; use layerwise, global or identity");
  std::vector<std::string> names = m.names();
  std::sort(names.begin(), names.end());
  pruning::Mask out = m;
  if (strategy == "layerwise") {
    for (size_t i = 0; i < names.size(); ++i) {
      const Tensor& t = m.at(names[i]);
      const float* p = t.data<float>();
      std::vector<float> flat(p, p + t.numel());
      Generator g(static_cast<uint64_t>(seed + static_cast<int64_t>(i)));
      out.set(names[i], tensor_like(t, permuted(flat, g.permutation(t.numel())).data()));
    }
  } else if (strategy == "global") {
    std::vector<float> flat;
    for (const std::string& n : names) {
      const Tensor& t = m.at(n);
      flat.insert(flat.end(), t.data<float>(), t.data<float>() + t.numel());
    }
    Generator g(static_cast<uint64_t>(seed));
    const std::vector<float> shuffled = permuted(flat, g.permutation(static_cast<int64_t>(flat.size())));
    size_t off = 0;
    for (const std::string& n : names) {
      const Tensor& t = m.at(n);
      out.set(n, tensor_like(t, shuffled.data() + off));
      off += static_cast<size_t>(t.numel());
    }
  }
  std::stringstream ss(layers_to_ignore);
  for (std::string n; std::getline(ss, n, ',');) {
    if (n.empty()) continue;
    SDD_USER_CHECK(m.contains(n), "--layers_to_ignore names '" << n << "', which is not a prunable tensor; use names from `sparsedd model NAME`");
    out.set(n, Tensor::ones(m.at(n).shape()));
  }
  return out;
}

void run_randomly_prune(const Experiment& e, const BranchLevel& b, RunContext& ctx) {
  const Description& d = e.desc;
  const Hparams& h = *e.branch_hparams;
  const std::string start_at = h.str("start_at");
  make_dirs(b.branch_root);
  if (!pruning::Mask::exists(b.branch_root))
    randomly_pruned_mask(trunk_mask(b), h.str("strategy"), h.integer("seed"), h.opt_str("layers_to_ignore").value_or(""))
        .save(b.branch_root);
  const pruning::Mask mask = pruning::Mask::load(b.branch_root);

  Step weights_at = d.train_start_step(), start = d.train_start_step();
  if (start_at == "init") weights_at = start = Step(0, d.ipe());
  else if (start_at == "end") {
    weights_at = trunk_level_end(d, b.level);
    start = Step(0, d.ipe());
  } else SDD_USER_CHECK(start_at == "rewind", "argument --start_at: invalid choice '" << start_at << "'; use rewind, init or end");
  require_trunk_model(b.level_root, weights_at);
  models::ModelPtr m = load_level_model(d.model, bundle_num_classes(d.dataset), b.level_root, weights_at);

  TrainTarget target;
  target.model = m.get();
  target.mask = mask;
  target.network_slimming = d.pruning && d.pruning->str("pruning_strategy") == "network_slimming";
  PhaseOptions opt;
  opt.output_dir = b.branch_root;
  opt.training = d.training;
  opt.dataset = d.dataset;
  opt.start = start;
  opt.end = d.train_end_step();
  opt.label = b.label;
  train_phase(target, opt, ctx);
}

}  // namespace sdd::exp

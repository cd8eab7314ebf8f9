// experiments/runners/level_models.h — the models and masks a runner handles between phases: fresh
// models from the description (SPEC 3.1, seeded by --torch_seed through sdd::global_generator),
// models loaded from a level's files, the level-0 all-ones mask, and one pruning step (SPEC 7.2),
// including the gradient-pruning batch (one seeded noisy augmented training batch, train mode).
#pragma once
#include <cstdint>
#include <string>

#include "engine/nn/module.h"
#include "experiments/hparams/description.h"
#include "experiments/hparams/hparams.h"
#include "experiments/step.h"
#include "experiments/train/trainer.h"
#include "models/model.h"
#include "pruning/mask.h"
#include "pruning/strategies.h"

namespace sdd::exp {

// Number of classes a DatasetHparams bundle trains on (4 with unsupervised_labels=rotation).
int64_t bundle_num_classes(const Hparams& dataset);

// A freshly initialised model (consumes the global generator) with the model bundle's initializers
// and freezing, `outputs` classes.
models::ModelPtr fresh_model(const Hparams& model, int64_t outputs);
// A fresh model (consuming RNG first, as the original) with the weights of dir/model_ep.._it...
models::ModelPtr load_level_model(const Hparams& model, int64_t outputs, const std::string& dir, const Step& s);

// Host f32 copies of the named parameters (by state-dict name).
nn::NamedTensors host_copy(const models::Model& m, const std::vector<std::string>& names);
// Host f32 copies of every prunable tensor of `type`.
nn::NamedTensors prunable_copy(models::Model& m, models::PrunableType type);

// The all-ones mask over the prunable tensors of the strategy's prunable type.
pruning::Mask ones_mask(models::Model& m, const std::string& strategy);

// A PruningConfig from a pruning bundle (strategy-specific fields read where the bundle has them).
pruning::PruningConfig pruning_config(const Hparams& pruning);

// One pruning step: the next mask from the trained model and the current mask. Gradient pruning runs
// one forward/backward on the CPU in train mode over one training batch (`dataset` bundle; batch
// chosen by the seeded epoch-0 order, data_order_seed or 0; augmented and with noisy labels).
pruning::Mask prune_step(models::Model& trained, const pruning::Mask& current, const Hparams& pruning,
                         const Hparams& dataset, const std::string& dataset_root);

// Gradients of the mean cross-entropy of one training batch w.r.t. every parameter (host f32, by name).
// Pretraining (SPEC 8.1 step 3): trains a fresh model into the trunk's level_pretrain/main unless its
// end model exists. Used by the pruning runners and by the oneshot_prune branch.
void pretrain_if_needed(const Experiment& e, RunContext& ctx, bool evaluate_only_at_end);

nn::NamedTensors gradient_batch_grads(models::Model& m, const Hparams& dataset, const std::string& dataset_root);

// Writes m's weights with every masked tensor w <- w*m (+ V*(1-m) when `reference` is non-empty) to
// dir/model_ep.._it.. (the masked start weights of a level).
void save_masked_model(models::Model& m, const pruning::Mask& mask, const nn::NamedTensors& reference,
                       const std::string& dir, const Step& s);

}  // namespace sdd::exp

// experiments/runners/level_models.cpp — fresh / loaded models, masks and one pruning step for the
// runners (see level_models.h).
#include "experiments/runners/level_models.h"

#include <algorithm>
#include <sstream>

#include "engine/autograd/autograd.h"
#include "engine/errors.h"
#include "engine/ops.h"
#include "experiments/data/augment.h"
#include "experiments/data/data_order.h"
#include "experiments/data/dataset.h"
#include "experiments/data/transforms.h"
#include "experiments/runners/paths.h"
#include "experiments/train/data_source.h"
#include "experiments/train/trainer.h"
#include "models/registry.h"

namespace sdd::exp {
namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

int64_t bundle_num_classes(const Hparams& dataset) {
  if (dataset.opt_str("unsupervised_labels").value_or("") == "rotation") return 4;
  return dataset_num_classes(dataset.str("dataset_name"));
}

models::ModelPtr fresh_model(const Hparams& model, int64_t outputs) {
  models::ModelPtr m = models::get_model(model.str("model_name"), outputs, model.str("model_init"),
                                         model.str("batchnorm_init"));
  models::apply_freezing(*m, model.flag("batchnorm_frozen"), model.flag("output_frozen"), model.flag("others_frozen"),
                         model.opt_str("others_frozen_exceptions").value_or(""));
  return m;
}

models::ModelPtr load_level_model(const Hparams& model, int64_t outputs, const std::string& dir, const Step& s) {
  models::ModelPtr m = fresh_model(model, outputs);
  load_model(*m, dir, s);
  return m;
}

nn::NamedTensors host_copy(const models::Model& m, const std::vector<std::string>& names) {
  nn::NamedTensors out;
  for (const std::string& n : names) out.emplace_back(n, m.parameter(n).to(Device::cpu()).clone());
  return out;
}

nn::NamedTensors prunable_copy(models::Model& m, models::PrunableType type) {
  return host_copy(m, m.prunable_layer_names(type));
}

pruning::Mask ones_mask(models::Model& m, const std::string& strategy) {
  std::vector<std::pair<std::string, Shape>> shapes;
  for (const std::string& n : m.prunable_layer_names(models::prunable_type_for_strategy(strategy)))
    shapes.emplace_back(n, m.parameter(n).shape());
  return pruning::Mask::ones(shapes);
}

pruning::PruningConfig pruning_config(const Hparams& p) {
  pruning::PruningConfig c;
  c.strategy = p.str("pruning_strategy");
  if (p.has("pruning_fraction")) c.fraction = p.flt("pruning_fraction");
  if (p.has("pruning_scope")) c.scope = p.str("pruning_scope");
  if (p.has("pruning_layers_to_ignore")) c.layers_to_ignore = split_commas(p.opt_str("pruning_layers_to_ignore").value_or(""));
  if (p.has("layers_to_prune") && c.strategy == "magnitude") c.layers_to_prune = p.opt_str("layers_to_prune").value_or("");
  if (p.has("prune_max_magnitude")) c.prune_max_magnitude = p.flag("prune_max_magnitude");
  if (p.has("random_mask_seed")) c.random_mask_seed = p.opt_int("random_mask_seed");
  pruning::validate(c);
  return c;
}

void pretrain_if_needed(const Experiment& e, RunContext& ctx, bool evaluate_only_at_end) {
  const Description& d = e.desc;
  if (!d.pretrain_training) return;
  const std::string pdir = run_path(e.global.results_root, d, e.global.replicate, kPretrainLevel);
  const Step end = *d.pretrain_end_step();
  if (model_exists(pdir, end)) return;
  make_dirs(pdir);
  models::ModelPtr m = fresh_model(d.model, bundle_num_classes(*d.pretrain_dataset));
  TrainTarget target;
  target.model = m.get();
  PhaseOptions opt;
  opt.output_dir = pdir;
  opt.training = *d.pretrain_training;
  opt.dataset = *d.pretrain_dataset;
  opt.start = Step(0, d.pretrain_ipe());
  opt.end = end;
  opt.evaluate_only_at_end = evaluate_only_at_end;
  opt.label = "pretrain";
  train_phase(target, opt, ctx);
}

nn::NamedTensors gradient_batch_grads(models::Model& m, const Hparams& dataset, const std::string& dataset_root) {
  Dataset d = load_dataset(dataset.str("dataset_name"), true, dataset_root);
  apply_transforms(d, DataCache::transforms_of(dataset));
  const int64_t b = dataset.integer("batch_size");
  // One batch: the first of the seeded epoch-0 order (DESIGN 4 decision 7: seeded, not torch's
  // unseeded permutation), augmented as the training loader does, with the noisy labels.
  const DataOrder order = DataOrder::seeded(d.n, b, 0);
  const std::vector<int64_t> idx = order.batch(order.epoch_order(0), 0);
  AugmentSpec aug;
  aug.enabled = !dataset.flag("do_not_augment");
  aug.seed = static_cast<uint64_t>(dataset.opt_int("transformation_seed").value_or(0));
  const Batch batch = make_batch(d, idx, aug, 0);

  const Device was = m.device();
  m.to(Device::cpu());
  const bool was_training = m.is_training();
  m.train(true);
  for (auto& [name, p] : m.named_parameters()) p.set_grad(Tensor());
  nn::NamedTensors grads;
  {
    Tensor loss = ops::cross_entropy(m.forward(batch.x), batch.y);
    loss.backward();
    for (auto& [name, p] : m.named_parameters()) {
      Tensor g = p.grad();
      grads.emplace_back(name, g.defined() ? g.to(Device::cpu()).clone() : Tensor::zeros(p.shape()));
      p.set_grad(Tensor());
    }
  }
  m.train(was_training);
  m.to(was);
  return grads;
}

pruning::Mask prune_step(models::Model& trained, const pruning::Mask& current, const Hparams& pruning,
                         const Hparams& dataset, const std::string& dataset_root) {
  const pruning::PruningConfig c = pruning_config(pruning);
  // A model on a GPU prunes there (pruning/strategies.h routes CUDA weights to device_threshold):
  // its live parameters; a host model: host copies, as before.
  auto weights_of = [&trained]() {
    if (!trained.device().is_cuda()) return prunable_copy(trained, models::PrunableType::Default);
    nn::NamedTensors live;
    for (const std::string& n : trained.prunable_layer_names(models::PrunableType::Default))
      live.emplace_back(n, trained.parameter(n));
    return live;
  };
  if (c.strategy == "magnitude") return pruning::prune_magnitude(current, weights_of(), c);
  if (c.strategy == "random") return pruning::prune_random(current, c);
  if (c.strategy == "network_slimming") {
    nn::NamedTensors gammas;
    for (const std::string& n : trained.prunable_layer_names(models::PrunableType::BN))
      if (n.size() >= 7 && n.compare(n.size() - 7, 7, ".weight") == 0) gammas.emplace_back(n, trained.parameter(n).to(Device::cpu()).clone());
    return pruning::prune_network_slimming(current, gammas, c);
  }
  SDD_CHECK(c.strategy == "gradient", "strategy " << c.strategy);
  const nn::NamedTensors weights = weights_of();
  const nn::NamedTensors all_grads = gradient_batch_grads(trained, dataset, dataset_root);
  nn::NamedTensors grads;
  for (const auto& [n, w] : weights)
    for (const auto& [gn, g] : all_grads)
      if (gn == n) grads.emplace_back(n, g);
  return pruning::prune_gradient(current, weights, grads, c);
}

void save_masked_model(models::Model& m, const pruning::Mask& mask, const nn::NamedTensors& reference,
                       const std::string& dir, const Step& s) {
  NoGradGuard ng;
  for (const auto& [name, mk] : mask.entries()) {
    Tensor p = m.parameter(name);
    Tensor w = p.to(Device::cpu()).clone();
    float* pw = w.data<float>();
    const float* pm = mk.data<float>();
    const float* pv = nullptr;
    for (const auto& [rn, rv] : reference)
      if (rn == name) pv = rv.data<float>();
    for (int64_t i = 0; i < w.numel(); ++i) pw[i] = pm[i] != 0.0f ? pw[i] : (pv ? pv[i] : 0.0f);
    p.copy_(w);
  }
  save_model(m, dir, s);
}

}  // namespace sdd::exp

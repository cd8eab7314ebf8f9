// models/presets.h — the --default_hparams presets as data (SPEC 3.3).
//
// A preset is chosen by model family; the name given becomes model_name. Every SDD preset is a
// finetuning description: dataset, model, training, pruning (magnitude) and finetuning values.
// Families and what their pruning preset leaves unpruned:
//   mnist_mlp            mnist 128, sgd 0.1, 160ep                                  ignores fc.weight
//   cifar_vgg            cifar10 128, sgd 0.1 m0.9 wd1e-4, 80ep,120ep x0.1, 160ep   ignores fc.weight
//   cifar_pytorch_resnet cifar100 128, as cifar_vgg                                 ignores nothing
//   imagenet_resnet      imagenet 1024, 0.4, 30ep,60ep,80ep, 90ep, warmup 5ep      ignores nothing
//   tinyimagenet_resnet  tinyimagenet 256, 0.2, 100ep,150ep, 200ep, warmup 5ep     ignores nothing
// Empty optionals mean "leave the field at its declared default (None / 0)".
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace sdd::models {

struct Preset {
  std::string family;  // "mnist_mlp", "cifar_vgg", ...
  // ModelHparams
  std::string model_name, model_init, batchnorm_init;
  // DatasetHparams
  std::string dataset_name;
  int64_t batch_size = 0;
  // TrainingHparams
  std::string optimizer_name;
  double lr = 0;
  std::string training_steps;
  std::optional<double> momentum, weight_decay, gamma;
  std::optional<std::string> milestone_steps, warmup_steps;
  // PruningHparams (magnitude)
  std::string pruning_strategy;
  double pruning_fraction = 0.2;
  std::string pruning_scope;
  std::optional<std::string> pruning_layers_to_ignore;
  // FinetuningHparams
  double finetune_lr = 0;
  std::string finetune_training_steps;
};

// The SDD preset for `model_name` (its family's values with model_name replaced). Throws UserError
// when the name is not a valid SDD model name (OpenLTH-only names such as cifar_resnet_20 or
// mnist_lenet_300_100 included).
Preset get_preset(const std::string& model_name);

}  // namespace sdd::models

// models/presets.cpp — preset values per SDD model family (SPEC 3.3); family lookup via models/names.h.
#include "models/presets.h"

#include "engine/errors.h"
#include "models/names.h"

namespace sdd::models {
namespace {

Preset base(const std::string& family, const std::string& name) {
  Preset p;
  p.family = family;
  p.model_name = name;
  p.model_init = "kaiming_normal";
  p.batchnorm_init = "uniform";
  p.optimizer_name = "sgd";
  p.pruning_strategy = "magnitude";
  p.pruning_fraction = 0.2;
  p.pruning_scope = "global";
  return p;
}

}  // namespace

Preset get_preset(const std::string& model_name) {
  const std::string fam = model_family(model_name);  // UserError for invalid names
  Preset p = base(fam, model_name);
  if (fam == "mnist_mlp") {
    p.dataset_name = "mnist";
    p.batch_size = 128;
    p.lr = 0.1;
    p.training_steps = "160ep";
    p.pruning_layers_to_ignore = "fc.weight";
    p.finetune_lr = 0.1;
    p.finetune_training_steps = "160ep";
  } else if (fam == "cifar_vgg" || fam == "cifar_pytorch_resnet") {
    p.dataset_name = fam == "cifar_vgg" ? "cifar10" : "cifar100";
    p.batch_size = 128;
    p.lr = 0.1;
    p.momentum = 0.9;
    p.weight_decay = 1e-4;
    p.milestone_steps = "80ep,120ep";
    p.gamma = 0.1;
    p.training_steps = "160ep";
    if (fam == "cifar_vgg") p.pruning_layers_to_ignore = "fc.weight";
    p.finetune_lr = 0.001;
    p.finetune_training_steps = "160ep";
  } else if (fam == "imagenet_resnet") {
    p.dataset_name = "imagenet";
    p.batch_size = 1024;
    p.lr = 0.4;
    p.momentum = 0.9;
    p.weight_decay = 1e-4;
    p.milestone_steps = "30ep,60ep,80ep";
    p.gamma = 0.1;
    p.training_steps = "90ep";
    p.warmup_steps = "5ep";
    p.finetune_lr = 1e-4;
    p.finetune_training_steps = "30ep";
  } else if (fam == "tinyimagenet_resnet") {
    p.dataset_name = "tinyimagenet";  // as the original; the dataset layer accepts it as an alias
    p.batch_size = 256;
    p.lr = 0.2;
    p.momentum = 0.9;
    p.weight_decay = 1e-4;
    p.milestone_steps = "100ep,150ep";
    p.gamma = 0.1;
    p.training_steps = "200ep";
    p.warmup_steps = "5ep";
    p.finetune_lr = 1e-4;
    p.finetune_training_steps = "30ep";
  } else {
    SDD_USER_FAIL("no --default_hparams preset for '" << model_name << "' (" << fam
                  << " is an OpenLTH-only family); use e.g. mnist_mlp_300_100, cifar_vgg_16, "
                     "cifar_pytorch_resnet_18, tinyimagenet_resnet_101 or imagenet_resnet_50");
  }
  return p;
}

}  // namespace sdd::models

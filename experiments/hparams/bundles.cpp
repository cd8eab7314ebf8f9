// experiments/hparams/bundles.cpp — field declarations of every bundle (names/types/defaults: SPEC 2).
#include "experiments/hparams/bundles.h"

#include "engine/errors.h"

namespace sdd::exp {
namespace {
using FT = FieldType;
}

Hparams dataset_hparams() {
  Hparams h("Dataset Hyperparameters", "Hyperparameters that select the dataset, data augmentation, and other data transformations.");
  h.add_required("dataset_name", FT::Str, "The name of the dataset: mnist, fashion_mnist, cifar10, cifar100, tiny_imagenet.");
  h.add_required("batch_size", FT::Int, "The size of the mini-batches on which to train and evaluate.");
  h.add("do_not_augment", Value::boolean(false), "If set, disable training-set augmentation.");
  h.add("transformation_seed", Value::none_of(FT::Int),
        "Seed for label noise, subsampling and rotation labels (None behaves as 0).");
  h.add("subsample_fraction", Value::none_of(FT::Float), "Keep ceil(N * f) training examples.");
  h.add("random_labels_fraction", Value::none_of(FT::Float), "Relabel this exact fraction of training examples uniformly at random.");
  h.add("noisy_labels_fraction", Value::none_of(FT::Float),
        "Fraction of training labels corrupted with --noisy_labels_type (exclusive with random_labels_fraction).");
  h.add("noisy_labels_type", Value::none_of(FT::Str), "The label noise type: symmetric, asymmetric or pairflip.");
  h.add("unsupervised_labels", Value::none_of(FT::Str), "Replace the labels with a self-supervised task: rotation (images rotated by exactly 90 degrees x label; the original drew a random angle).");
  h.add("blur_factor", Value::none_of(FT::Int), "Blur the training images by down- and upsampling by this factor.");
  h.add("num_workers", Value::integer(2), "Worker threads for data loading and folder scanning.");
  return h;
}

Hparams model_hparams() {
  Hparams h("Model Hyperparameters", "Hyperparameters that select the model, initialization, and weight freezing.");
  h.add_required("model_name", FT::Str, "The name of the model, e.g. cifar_pytorch_resnet_18, cifar_vgg_16, mnist_mlp_300_100.");
  h.add_required("model_init", FT::Str, "The weight initializer: kaiming_normal, kaiming_uniform, orthogonal, binary.");
  h.add_required("batchnorm_init", FT::Str, "The BatchNorm initializer: uniform, fixed, oneone, positivenegative.");
  h.add("batchnorm_frozen", Value::boolean(false), "If set, BatchNorm weights and biases are not trained.");
  h.add("output_frozen", Value::boolean(false), "If set, the output layer is not trained.");
  h.add("others_frozen", Value::boolean(false), "If set, every other parameter is frozen except --others_frozen_exceptions.");
  h.add("others_frozen_exceptions", Value::none_of(FT::Str), "Comma-separated tensor names exempt from --others_frozen.");
  return h;
}

Hparams training_hparams() {
  Hparams h("Training Hyperparameters", "Hyperparameters that determine how the model is trained.");
  h.add_required("optimizer_name", FT::Str, "The optimizer: sgd or adam.");
  h.add_required("lr", FT::Float, "The base learning rate.");
  h.add_required("training_steps", FT::Str, "The absolute end step of training, e.g. 160ep, 1000it or 1ep100it.");
  h.add("data_order_seed", Value::none_of(FT::Int), "Seed of the per-epoch data order (epoch e uses seed + e); unset: random order.");
  h.add("momentum", Value::flt(0.0), "SGD momentum.");
  h.add("nesterov_momentum", Value::flt(0.0), "If > 0, SGD with Nesterov momentum of this value.");
  h.add("milestone_steps", Value::none_of(FT::Str), "Comma-separated steps at which the learning rate drops by --gamma.");
  h.add("gamma", Value::none_of(FT::Float), "Factor applied to the learning rate at each milestone.");
  h.add("warmup_steps", Value::none_of(FT::Str), "Length of the linear learning-rate warmup from 0.");
  h.add("weight_decay", Value::none_of(FT::Float), "L2 weight decay coupled into the gradient.");
  h.add("apex_fp16", Value::boolean(false), "Accepted for compatibility; use --precision instead.");
  h.add("regain_pruned_weights_steps", Value::none_of(FT::Str), "At this step every mask becomes 1 and training continues dense (re-dense).");
  h.add("use_convergence_stopping_criterion", Value::boolean(false), "Stop early once the logged train loss is below 0.001.");
  h.add("bn_sparsity_regularization", Value::boolean(false), "Add an L1 sub-gradient on BatchNorm scale factors.");
  h.add("distance_penalty", Value::none_of(FT::Float), "Weight L of the penalty 0.5*L^2*||w - w0||^2 to the phase's start weights (sparsedd applies its gradient; the original's term had none).");
  return h;
}

Hparams finetuning_hparams() {
  Hparams h("Finetuning Hyperparameters", "Hyperparameters for finetuning after each pruning step.");
  h.add_required("lr", FT::Float, "The finetuning learning rate.");
  h.add_required("training_steps", FT::Str, "The finetuning length per level (from step 0).");
  h.add("milestone_steps", Value::none_of(FT::Str), "Finetuning milestones; unset: constant learning rate.");
  h.add("gamma", Value::none_of(FT::Float), "Learning-rate factor at each finetuning milestone.");
  h.add("bn_sparsity_regularization", Value::boolean(false), "Add an L1 sub-gradient on BatchNorm scale factors while finetuning.");
  return h;
}

std::vector<std::string> pruning_strategies() { return {"magnitude", "gradient", "random", "network_slimming"}; }

std::string pruning_help_group(const std::string& s) {
  if (s == "magnitude") return "Magnitude Pruning Hyperparameters";
  if (s == "gradient") return "Gradient Pruning Hyperparameters";
  if (s == "random") return "Random Pruning Hyperparameters";
  if (s == "network_slimming") return "Network Slimming Hyperparameters";
  return "Pruning Hyperparameters";
}

Hparams pruning_hparams(const std::string& strategy) {
  Hparams h("Pruning Hyperparameters", "Hyperparameters that determine how the model is pruned.");
  h.add_required("pruning_strategy", FT::Str, "The pruning strategy: magnitude, gradient, random, network_slimming.");
  h.add("freeze_pruned_weights", Value::str("zero"), "What pruned weights hold in the forward pass: zero, init, final, permuted.");
  const std::string frac = "The fraction of remaining weights to prune at each level.";
  const std::string ignore = "Comma-separated tensor names that are never pruned.";
  if (strategy == "magnitude" || strategy == "gradient") {
    h.add("pruning_fraction", Value::flt(0.2), frac);
    h.add("pruning_scope", Value::str("global"), "Rank weights globally or per layer: global or layer.");
    h.add("pruning_layers_to_ignore", Value::none_of(FT::Str), ignore);
    h.add("layers_to_prune", Value::none_of(FT::Str), "first_n or last_n: restrict layer-scope pruning to n layers.");
    if (strategy == "magnitude")
      h.add("prune_max_magnitude", Value::boolean(false), "Prune the largest-magnitude weights instead of the smallest.");
  } else if (strategy == "random") {
    h.add("pruning_fraction", Value::flt(0.2), frac);
    h.add("pruning_layers_to_ignore", Value::none_of(FT::Str), ignore);
    h.add("pruning_scope", Value::str("global"), "Draw the random mask globally or per layer: global or layer.");
    h.add("random_mask_seed", Value::none_of(FT::Int), "Seed of the random mask.");
  } else if (strategy == "network_slimming") {
    h.add("pruning_fraction", Value::flt(0.2), frac);
    h.add("pruning_layers_to_ignore", Value::none_of(FT::Str), ignore);
  } else {
    SDD_USER_FAIL("no such pruning strategy '" << strategy << "'; use magnitude, gradient, random or network_slimming");
  }
  return h;
}

std::vector<std::string> branch_names() { return {"oneshot_prune", "randomly_prune", "randomly_reinitialize", "retrain"}; }

std::string branch_description(const std::string& b) {
  if (b == "retrain") return "Retrain the model with different hyperparameters.";
  if (b == "randomly_reinitialize") return "Randomly reinitialize the model.";
  if (b == "randomly_prune") return "Randomly prune the model.";
  if (b == "oneshot_prune") return "Prune the dense level-0 model to each level's sparsity in one shot and retrain.";
  SDD_USER_FAIL("no such branch '" << b << "'; use oneshot_prune, randomly_prune, randomly_reinitialize or retrain");
}

Hparams branch_hparams(const std::string& b) {
  Hparams h("Branch Hyperparameters", branch_description(b));
  if (b == "retrain") {
    Hparams d = dataset_hparams();
    Hparams t = training_hparams();
    Value dv = Value::bundle(d), tv = Value::bundle(t);
    h.add("retrain_d", dv, "Dataset hyperparameters of the retraining run (--retrain_d_*).");
    h.add("retrain_t", tv, "Training hyperparameters of the retraining run (--retrain_t_*).");
    h.fields()[0].required = h.fields()[1].required = true;
    h.add("start_at_step_zero", Value::boolean(false),
          "Start retraining at step 0 instead of the trunk's start step. (sparsedd evaluates the test set every "
          "epoch of the retraining; the original's HEAD evaluated it only at the start.)");
  } else if (b == "randomly_reinitialize") {
    h.add("start_at_step_zero", Value::boolean(false), "Start training at step 0 instead of the trunk's start step.");
  } else if (b == "randomly_prune") {
    h.add_required("seed", FT::Int, "Seed of the random mask permutation (not changed by --fix_all_random_seeds).");
    h.add("strategy", Value::str("layerwise"), "How to shuffle the mask: layerwise, global or identity.");
    h.add("start_at", Value::str("rewind"), "Weights to start from: rewind, init or end.");
    h.add("layers_to_ignore", Value::str(""), "Comma-separated tensor names whose mask is set to all ones.");
  } else if (b == "oneshot_prune") {
    // no arguments
  }
  return h;
}

}  // namespace sdd::exp

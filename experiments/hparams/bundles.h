// experiments/hparams/bundles.h — the hyperparameter bundles of the original, with their field names,
// types, defaults and help texts (SPEC 2.1-2.7).
//
// Fields are declared in the original's order (hparams.log lists them in this order). Titles are the
// hparams.log titles; help_group() is the --help group title (the pruning strategy's own title).
#pragma once
#include <string>
#include <vector>

#include "experiments/hparams/hparams.h"

namespace sdd::exp {

Hparams dataset_hparams();      // "Dataset Hyperparameters"
Hparams model_hparams();        // "Model Hyperparameters"
Hparams training_hparams();     // "Training Hyperparameters"
Hparams finetuning_hparams();   // "Finetuning Hyperparameters" (the five --finetune_* fields)
// Pruning bundle of a strategy: magnitude, gradient, random, network_slimming. UserError otherwise.
Hparams pruning_hparams(const std::string& strategy);
std::vector<std::string> pruning_strategies();  // in registry order

// Branch bundles (SPEC 2.7, 9): retrain, randomly_prune, randomly_reinitialize, oneshot_prune.
Hparams branch_hparams(const std::string& branch);
std::vector<std::string> branch_names();        // sorted by name (the branch menu order)
std::string branch_description(const std::string& branch);

// The --help group title of a pruning strategy's bundle ("Magnitude Pruning Hyperparameters", ...).
std::string pruning_help_group(const std::string& strategy);

}  // namespace sdd::exp

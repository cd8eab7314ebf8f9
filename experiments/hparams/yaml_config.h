// experiments/hparams/yaml_config.h — experiments from YAML files, and the resolved configuration
// written back as YAML (DESIGN rule 10).
//
// Format (keys are the flag names without "--"; values are scalars):
//   runner: lottery            # or lottery_branch, train, rewindLR, finetune, scratch ...
//   branch: retrain            # only for <main>_branch runners
//   default_hparams: cifar_pytorch_resnet_18
//   levels: 30
//   lr: 0.1
//   sweep:                     # optional: key -> list; the cartesian product gives several experiments
//     random_labels_fraction: [0.2, 0.4]
//     lr: [0.1, 0.05]
// Unknown keys, wrong types and malformed YAML are UserErrors naming the file and line.
#pragma once
#include <string>
#include <vector>

#include "experiments/hparams/description.h"

namespace sdd::exp {

// Parses YAML text; `name` (e.g. the file path) prefixes error messages as "name:line".
std::vector<Experiment> experiments_from_yaml(const std::string& text, const std::string& name);
// Reads and parses a file (UserError when it cannot be read).
std::vector<Experiment> load_yaml_config(const std::string& path);

// The fully resolved configuration of one experiment as YAML (loads back to the same experiment and
// hashes; default_hparams is not written because every value it supplied is written explicitly).
std::string experiment_to_yaml(const Experiment& e);

}  // namespace sdd::exp

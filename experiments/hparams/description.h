// experiments/hparams/description.h — a parsed experiment: the runner's description (its bundles),
// the branch bundle if any, and the global options; experiment hashes and hparams.log text.
//
// Hash (SPEC 10.2): the description's bundles in sorted field-name order
//   train:                      dataset, model, training
//   lottery/rewindLR/scratch:   dataset, model, pretrain_dataset, pretrain_training, pruning, training
//   finetune:                   dataset, finetuning, model, pretrain_dataset, pretrain_training, pruning, training
// (absent pretrain bundles skipped), canonical strings joined by ';', md5 -> "<runner>_<md5>".
// Branch directories: "branch_<name>_<md5 of the branch bundle's canonical string>".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "experiments/hparams/hparams.h"
#include "experiments/step.h"

namespace sdd::exp {

// The main runners, in registry order.
const std::vector<std::string>& runner_names();  // train, rewindLR, lottery, finetune, scratch
std::string runner_description(const std::string& runner);

struct Description {
  std::string runner;                       // train, lottery, rewindLR, finetune, scratch
  Hparams dataset, model, training;         // always present
  std::optional<Hparams> pruning;           // all but train
  std::optional<Hparams> finetuning;        // finetune only: a TrainingHparams (training with the
                                            // five --finetune_* fields overwritten), title "Finetuning Hyperparameters"
  std::optional<Hparams> pretrain_dataset;  // with --rewinding_steps (non-zero) or --pretrain (non-zero length)
  std::optional<Hparams> pretrain_training;
  bool pretrain_from_rewinding = false;     // pretrain bundles came from --rewinding_steps

  // Bundles in hash order (sorted field names), absent ones skipped.
  std::vector<const Hparams*> hash_bundles() const;
  std::string hash_string() const;          // canonical strings joined by ';'
  std::string hash() const;                 // md5 hex of hash_string()
  std::string dir_name() const;             // "<runner>_<md5>"
  std::string hparams_log() const;          // hparams.log content, no trailing newline

  // Iterations per epoch of the main / pretrain dataset bundle.
  int64_t ipe() const;
  int64_t pretrain_ipe() const;
  // Start of every level: the pretrain length converted with the MAIN ipe (0 without pretraining).
  Step train_start_step() const;
  // End of pretraining with the pretrain dataset's ipe (nullopt without pretraining).
  std::optional<Step> pretrain_end_step() const;
  Step train_end_step() const;                   // training_steps at the main ipe
  std::optional<Step> finetune_end_step() const; // finetuning.training_steps at the main ipe
};

// ipe of a DatasetHparams bundle.
int64_t bundle_ipe(const Hparams& dataset);

// Options that are not hyperparameters (never hashed).
struct GlobalOptions {
  bool display_output_location = false;       // -d
  std::optional<std::string> gpu;             // --gpu; nullopt = every visible GPU (DESIGN 4 #22)
  std::optional<int64_t> fix_all_random_seeds;
  std::optional<int64_t> torch_seed;          // after the --fix_all_random_seeds rewrite
  int64_t replicate = 1;
  std::optional<std::string> default_hparams;
  bool quiet = false;
  bool evaluate_only_at_end = false;
  std::string dataset_root;                   // --dataset_root, else $SPARSEDD_DATA, else ~/sparsedd_data
  std::string results_root;                   // --results_root, else $SPARSEDD_RESULTS, else ~/sparsedd_results
  std::optional<std::string> device;          // --device (e.g. cpu, cuda, cuda:1); nullopt = automatic
  std::string precision = "tf32";             // --precision: fp32 | tf32 | bf16
};

struct Experiment {
  std::string command;              // as typed: "lottery", "lottery_branch"
  Description desc;                 // the (trunk) description
  std::optional<int64_t> levels;    // main pruning runners: levels 0..N
  std::string branch;               // "" for main runners
  std::optional<Hparams> branch_hparams;
  std::vector<int64_t> branch_levels;  // branches: sorted, de-duplicated
  std::string rewinding_steps;      // --rewinding_steps as given ("" if none)
  bool pretrain = false;            // --pretrain given
  GlobalOptions global;

  bool is_branch() const { return !branch.empty(); }
  // "branch_<name>_<md5>" (branches only).
  std::string branch_dir_name() const;
};

}  // namespace sdd::exp

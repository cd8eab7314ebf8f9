// experiments/hparams/description.cpp — hash order, hparams.log and step helpers of a description.
#include "experiments/hparams/description.h"

#include <algorithm>
#include <utility>

#include "engine/errors.h"
#include "experiments/md5.h"

namespace sdd::exp {

const std::vector<std::string>& runner_names() {
  static const std::vector<std::string> names = {"train", "rewindLR", "lottery", "finetune", "scratch"};
  return names;
}

std::string runner_description(const std::string& r) {
  if (r == "train") return "Train a model.";
  if (r == "rewindLR") return "Run a pruning and rewinding experiment.";
  if (r == "lottery") return "Run a lottery ticket hypothesis experiment.";
  if (r == "finetune") return "Run an iterative pruning-finetuning experiment.";
  if (r == "scratch") return "Run a pruning and retraining from re-initialized scratch experiment.";
  SDD_USER_FAIL("no such runner '" << r << "'; use train, rewindLR, lottery, finetune or scratch");
}

std::vector<const Hparams*> Description::hash_bundles() const {
  std::vector<std::pair<std::string, const Hparams*>> named = {{"dataset", &dataset}, {"model", &model}, {"training", &training}};
  if (pruning) named.push_back({"pruning", &*pruning});
  if (finetuning) named.push_back({"finetuning", &*finetuning});
  if (pretrain_dataset) named.push_back({"pretrain_dataset", &*pretrain_dataset});
  if (pretrain_training) named.push_back({"pretrain_training", &*pretrain_training});
  std::sort(named.begin(), named.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const Hparams*> out;
  for (auto& n : named) out.push_back(n.second);
  return out;
}

std::string Description::hash_string() const {
  std::string s;
  for (const Hparams* h : hash_bundles()) {
    if (!s.empty()) s += ";";
    s += h->canonical();
  }
  return s;
}

std::string Description::hash() const { return md5_hex(hash_string()); }
std::string Description::dir_name() const { return runner + "_" + hash(); }

std::string Description::hparams_log() const {
  std::string s;
  for (const Hparams* h : hash_bundles()) {
    if (!s.empty()) s += "\n";
    s += h->display();
  }
  return s;
}

int64_t bundle_ipe(const Hparams& d) {
  return iterations_per_epoch(d.str("dataset_name"), d.integer("batch_size"), d.opt_flt("subsample_fraction"));
}

int64_t Description::ipe() const { return bundle_ipe(dataset); }
int64_t Description::pretrain_ipe() const {
  SDD_CHECK(pretrain_dataset.has_value(), "no pretraining configured");
  return bundle_ipe(*pretrain_dataset);
}

Step Description::train_start_step() const {
  if (!pretrain_training) return Step(0, ipe());
  return Step::from_str(pretrain_training->str("training_steps"), ipe());
}

std::optional<Step> Description::pretrain_end_step() const {
  if (!pretrain_training) return std::nullopt;
  return Step::from_str(pretrain_training->str("training_steps"), pretrain_ipe());
}

Step Description::train_end_step() const { return Step::from_str(training.str("training_steps"), ipe()); }

std::optional<Step> Description::finetune_end_step() const {
  if (!finetuning) return std::nullopt;
  return Step::from_str(finetuning->str("training_steps"), ipe());
}

std::string Experiment::branch_dir_name() const {
  SDD_CHECK(branch_hparams.has_value(), "not a branch experiment");
  return "branch_" + branch + "_" + md5_hex(branch_hparams->canonical());
}

}  // namespace sdd::exp

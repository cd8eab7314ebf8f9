// experiments/hparams/flag_table.cpp — option table construction and --help text (SPEC 1.1-1.8).
#include "experiments/hparams/flag_table.h"

#include <algorithm>
#include <cctype>

#include "engine/errors.h"
#include "experiments/hparams/bundles.h"
#include "experiments/hparams/description.h"

namespace sdd::exp::detail {
namespace {
const std::string kEq(82, '=');
const std::string kDash(82, '-');
}  // namespace

bool is_main_runner(const std::string& r) {
  const auto& n = runner_names();
  return std::find(n.begin(), n.end(), r) != n.end();
}

std::string runner_group_title(const std::string& r) {
  if (r == "lottery") return "Lottery Ticket Hyperparameters";
  if (r == "rewindLR") return "Learning Rate Rewinding Hyperparameters";
  if (r == "finetune") return "Pruning-Finetuning Hyperparameters";
  if (r == "scratch") return "Scratch Retraining Hyperparameters";
  return "Runner Hyperparameters";
}

// Preset value of a bundle field (nullopt when the preset does not set it).
std::optional<Value> preset_value(const models::Preset& p, const std::string& bundle, const std::string& f) {
  auto sv = [](const std::string& s) { return std::optional<Value>(Value::str(s)); };
  auto fo = [](const std::optional<double>& d) { return d ? std::optional<Value>(Value::flt(*d)) : std::nullopt; };
  auto so = [](const std::optional<std::string>& s) { return s ? std::optional<Value>(Value::str(*s)) : std::nullopt; };
  if (bundle == "dataset") {
    if (f == "dataset_name") return sv(p.dataset_name);
    if (f == "batch_size") return Value::integer(p.batch_size);
  } else if (bundle == "model") {
    if (f == "model_name") return sv(p.model_name);
    if (f == "model_init") return sv(p.model_init);
    if (f == "batchnorm_init") return sv(p.batchnorm_init);
  } else if (bundle == "training") {
    if (f == "optimizer_name") return sv(p.optimizer_name);
    if (f == "lr") return Value::flt(p.lr);
    if (f == "training_steps") return sv(p.training_steps);
    if (f == "momentum") return fo(p.momentum);
    if (f == "weight_decay") return fo(p.weight_decay);
    if (f == "gamma") return fo(p.gamma);
    if (f == "milestone_steps") return so(p.milestone_steps);
    if (f == "warmup_steps") return so(p.warmup_steps);
  } else if (bundle == "pruning") {
    if (f == "pruning_strategy") return sv(p.pruning_strategy);
    if (f == "pruning_fraction") return Value::flt(p.pruning_fraction);
    if (f == "pruning_scope") return sv(p.pruning_scope);
    if (f == "pruning_layers_to_ignore") return so(p.pruning_layers_to_ignore);
  } else if (bundle == "finetuning") {
    if (f == "lr") return Value::flt(p.finetune_lr);
    if (f == "training_steps") return sv(p.finetune_training_steps);
  }
  return std::nullopt;
}

// Adds the flags of a bundle (prefix "" or "pretrain_" ...). preset_bundle names the preset section
// supplying defaults ("" for none).
void add_bundle(Table& t, const Context& c, const Hparams& h, const std::string& prefix, const std::string& group,
                const std::string& group_desc, const std::string& preset_bundle) {
  t.groups.push_back({group, group_desc});
  for (const Field& f : h.fields()) {
    if (f.type == FieldType::Bundle) continue;
    FlagSpec s;
    s.name = prefix + f.name;
    s.group = group;
    s.type = f.type;
    s.def = f.default_value;
    s.help = f.help;
    std::optional<Value> pv;
    if (c.preset && !preset_bundle.empty()) pv = preset_value(*c.preset, preset_bundle, f.name);
    if (pv) s.def = *pv;
    s.required = f.required && !(pv && pv->truthy());
    t.flags.push_back(s);
  }
}

Table build_table(const Context& c) {
  Table t;
  const bool branch = !c.branch.empty();
  t.groups.push_back({"options", ""});
  t.flags.push_back({"help", "options", FieldType::Bool, Value::boolean(false), false, "show this help message and exit", ""});
  t.flags.push_back({"display_output_location", "options", FieldType::Bool, Value::boolean(false), false,
                     "Print the output location of the experiment and exit.", ""});
  t.flags.push_back({"gpu", "options", FieldType::Str, Value::none_of(FieldType::Str), false,
                     "GPUs to use, e.g. 0 or 0,1,2,3 (written to CUDA_VISIBLE_DEVICES).", "every visible GPU"});

  const std::string pg = "Platform Hyperparameters";
  t.groups.push_back({pg, "Hyperparameters that control the platform on which the job is run."});
  t.flags.push_back({"fix_all_random_seeds", pg, FieldType::Int, Value::none_of(FieldType::Int), false,
                     "If non-zero, set every torch/data-order/transformation/random-mask seed to this value.", ""});
  t.flags.push_back({"torch_seed", pg, FieldType::Int, Value::none_of(FieldType::Int), false,
                     "Seed of the global generator (weight init, unseeded data order, augmentation).", ""});
  t.flags.push_back({"dataset_root", pg, FieldType::Str, Value::none_of(FieldType::Str), false,
                     "Dataset directory.", "$SPARSEDD_DATA or ~/sparsedd_data"});
  t.flags.push_back({"results_root", pg, FieldType::Str, Value::none_of(FieldType::Str), false,
                     "Results directory.", "$SPARSEDD_RESULTS or ~/sparsedd_results"});
  t.flags.push_back({"device", pg, FieldType::Str, Value::none_of(FieldType::Str), false,
                     "Training device: cpu, cuda or cuda:N.", "the GPU when one is visible, else cpu"});
  t.flags.push_back({"precision", pg, FieldType::Str, Value::str("tf32"), false,
                     "GPU math: fp32 (no TF32 anywhere), tf32 (TF32 convolutions, fp32 matmuls, as PyTorch's defaults) or "
                     "bf16 (autocast: bf16 convolution and matmul inputs, fp32 accumulation, outputs and weights); "
                     "ignored on the CPU.", ""});

  const std::string hg = "High-Level Arguments";
  t.groups.push_back({hg, "Arguments that determine how the job is run and where it is stored."});
  t.flags.push_back({"replicate", hg, FieldType::Int, Value::integer(1), false, "The index of this particular replicate.", ""});
  t.flags.push_back({"default_hparams", hg, FieldType::Str, Value::none_of(FieldType::Str), false,
                     "Populate all arguments with the default hyperparameters for this model.", ""});
  t.flags.push_back({"quiet", hg, FieldType::Bool, Value::boolean(false), false, "Suppress output logging about the training status.", ""});
  t.flags.push_back({"evaluate_only_at_end", hg, FieldType::Bool, Value::boolean(false), false,
                     "Run the test set only at the start and end of each level (main runners only).", ""});

  if (c.runner != "train") {
    const std::string rg = branch ? "Branch Levels" : runner_group_title(c.runner);
    t.groups.push_back({rg, ""});
    if (branch)
      t.flags.push_back({"levels", rg, FieldType::Str, Value::none_of(FieldType::Str), true,
                         "Levels to run the branch on: e.g. 0,3,6 or 1-27 or 0-2,5-8,12.", ""});
    else
      t.flags.push_back({"levels", rg, FieldType::Int, Value::none_of(FieldType::Int), true,
                         "The number of pruning levels: levels 0..N are trained.", ""});
    const std::string wg = "Rewinding/Pretraining Arguments";
    t.groups.push_back({wg, ""});
    if (c.runner == "lottery" || c.runner == "rewindLR")
      t.flags.push_back({"rewinding_steps", wg, FieldType::Str, Value::none_of(FieldType::Str), false,
                         "The number of steps for which to train before rewinding (a step string, e.g. 1000it).", ""});
    t.flags.push_back({"pretrain", wg, FieldType::Bool, Value::boolean(false), false,
                       "Pretrain with separate --pretrain_* hyperparameters before the levels.", ""});
    if (branch && !c.pretrain)
      t.flags.push_back({"pretrain_training_steps", wg, FieldType::Str, Value::none_of(FieldType::Str), false,
                         "Pretraining length (only with --pretrain).", ""});
  }

  add_bundle(t, c, dataset_hparams(), "", "Dataset Hyperparameters", dataset_hparams().description(), "dataset");
  add_bundle(t, c, model_hparams(), "", "Model Hyperparameters", model_hparams().description(), "model");
  add_bundle(t, c, training_hparams(), "", "Training Hyperparameters", training_hparams().description(), "training");
  if (c.runner != "train") {
    if (c.strategy) {
      Hparams ph = pruning_hparams(*c.strategy);
      const bool use_preset = c.preset && c.preset->pruning_strategy == *c.strategy;
      add_bundle(t, c, ph, "", pruning_help_group(*c.strategy), ph.description(), use_preset ? "pruning" : "");
      // The strategy name itself is known: default it so --pruning_strategy need not be repeated.
      for (auto& f : t.flags)
        if (f.name == "pruning_strategy") {
          f.def = Value::str(*c.strategy);
          f.required = false;
        }
    } else {
      Hparams base("Pruning Hyperparameters", "");
      base.add_required("pruning_strategy", FieldType::Str, "The pruning strategy: magnitude, gradient, random, network_slimming.");
      add_bundle(t, c, base, "", "Pruning Hyperparameters", "Hyperparameters that determine how the model is pruned.", "");
    }
  }
  if (c.runner == "finetune")
    add_bundle(t, c, finetuning_hparams(), "finetune_", "Finetuning Hyperparameters", finetuning_hparams().description(), "finetuning");
  if (c.pretrain && c.runner != "train") {
    add_bundle(t, c, dataset_hparams(), "pretrain_", "Pretraining Dataset Hyperparameters", "Dataset hyperparameters for pretraining.", "dataset");
    add_bundle(t, c, training_hparams(), "pretrain_", "Pretraining Training Hyperparameters", "Training hyperparameters for pretraining.", "training");
    for (auto& f : t.flags)
      if (f.name == "pretrain_training_steps") {
        f.def = Value::str("0ep");
        f.required = false;
      }
  }
  if (branch) {
    const Hparams bh = branch_hparams(c.branch);
    if (c.branch == "retrain") {
      add_bundle(t, c, dataset_hparams(), "retrain_d_", "Retrain Dataset Hyperparameters", "Dataset hyperparameters of the retraining run.", "");
      add_bundle(t, c, training_hparams(), "retrain_t_", "Retrain Training Hyperparameters", "Training hyperparameters of the retraining run.", "");
    }
    Hparams rest("Branch", "");
    for (const Field& f : bh.fields())
      if (f.type != FieldType::Bundle) rest.fields().push_back(f);
    add_bundle(t, c, rest, "", "Branch Arguments (" + c.branch + ")", bh.description(), "");
  }
  return t;
}

// --------------------------------------------------------------------------------- help text

std::string banner_usage(const Context& c) {
  std::string cmd = "sparsedd " + c.command + (c.branch.empty() ? "" : " " + c.branch);
  std::string desc = c.branch.empty() ? runner_description(c.runner) : branch_description(c.branch);
  return kEq + "\nA Framework on Sparse Double Descent Based on open-lth\n" + kDash + "\n" + cmd + " [...] => " + desc +
         "\n" + kEq;
}

std::string metavar(const std::string& name) {
  std::string m = name;
  for (char& ch : m) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return m;
}

std::string render_help(const Table& t, const Context& c) {
  std::string out = "usage: " + banner_usage(c) + "\n";
  for (const Group& g : t.groups) {
    std::string body;
    for (const FlagSpec& f : t.flags) {
      if (f.group != g.title) continue;
      std::string inv;
      if (f.name == "help") inv = "-h, --help";
      else if (f.name == "display_output_location") inv = "-d, --display_output_location";
      else inv = "--" + f.name + (f.type == FieldType::Bool ? "" : " " + metavar(f.name));
      std::string help;
      if (f.name == "help") help = f.help;
      else if (f.type == FieldType::Bool) help = "(optional) " + f.help;
      else if (f.required) help = std::string("(required: ") + field_type_name(f.type) + ") " + f.help;
      else if (!f.default_text.empty()) help = "(default: " + f.default_text + ") " + f.help;
      else if (f.def.truthy()) help = "(default: " + f.def.str_() + ") " + f.help;
      else help = std::string("(optional: ") + field_type_name(f.type) + ") " + f.help;
      std::string line = "  " + inv;
      if (line.size() <= 22) line += std::string(24 - line.size(), ' ') + help;
      else line += "\n" + std::string(24, ' ') + help;
      body += line + "\n";
    }
    if (body.empty()) continue;
    out += "\n" + g.title + ":\n";
    if (!g.description.empty()) out += "  " + g.description + "\n\n";
    out += body;
  }
  return out;
}

}  // namespace sdd::exp::detail

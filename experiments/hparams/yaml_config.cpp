// experiments/hparams/yaml_config.cpp — YAML -> flag assignments -> experiments; experiment -> YAML.
#include "experiments/hparams/yaml_config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <map>
#include <sstream>

#include "engine/errors.h"
#include "experiments/hparams/flags.h"

namespace sdd::exp {
namespace {

std::string at(const std::string& name, const YAML::Node& n) {
  return name + ":" + std::to_string(n.Mark().line + 1);
}

// One scalar as assignment text (null -> nothing assigned).
bool scalar_text(const YAML::Node& v, const std::string& origin, const std::string& key, std::string& out) {
  if (v.IsNull()) return false;
  SDD_USER_CHECK(v.IsScalar(), origin << ": value of '" << key << "' must be a single value, not a list or mapping");
  out = v.Scalar();
  return true;
}

}  // namespace

std::vector<Experiment> experiments_from_yaml(const std::string& text, const std::string& name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    SDD_USER_FAIL(name << ":" << e.mark.line + 1 << ": invalid YAML: " << e.msg);
  }
  SDD_USER_CHECK(root.IsMap(), name << ": the configuration must be a mapping of option names to values");
  std::string runner, branch;
  std::vector<Assignment> base;
  std::vector<std::pair<Assignment, std::vector<std::string>>> sweeps;  // key/origin, values
  // yaml-cpp keeps both entries of a repeated key; which one counts would be a guess, so it is an error
  // (also a key both set and swept).
  std::map<std::string, std::string> seen;  // key -> where it was first given
  auto first_time = [&](const std::string& key, const std::string& origin) {
    const auto [it, fresh] = seen.emplace(key, origin);
    SDD_USER_CHECK(fresh, origin << ": '" << key << "' is already given at " << it->second << "; keep one of them");
  };
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const std::string origin = at(name, kv.first);
    first_time(key, origin);
    if (key == "runner" || key == "branch") {
      SDD_USER_CHECK(kv.second.IsScalar(), origin << ": '" << key << "' must be a name");
      (key == "runner" ? runner : branch) = kv.second.Scalar();
    } else if (key == "sweep") {
      SDD_USER_CHECK(kv.second.IsMap(), origin << ": 'sweep' must map option names to lists of values");
      for (const auto& s : kv.second) {
        const std::string skey = s.first.Scalar();
        const std::string sorigin = at(name, s.first);
        first_time(skey, sorigin);
        SDD_USER_CHECK(s.second.IsSequence() && s.second.size() > 0,
                       sorigin << ": sweep entry '" << skey << "' must be a non-empty list, e.g. [0.1, 0.2]");
        std::vector<std::string> values;
        for (const auto& v : s.second) {
          std::string t;
          SDD_USER_CHECK(scalar_text(v, at(name, v), skey, t), at(name, v) << ": sweep values of '" << skey << "' cannot be null");
          values.push_back(t);
        }
        sweeps.push_back({{skey, std::nullopt, sorigin}, values});
      }
    } else {
      std::string t;
      if (scalar_text(kv.second, origin, key, t)) base.push_back({key, t, origin});
    }
  }
  SDD_USER_CHECK(!runner.empty(), name << ": missing 'runner:' (train, lottery, rewindLR, finetune, scratch or <main>_branch)");
  if (runner.find('_') != std::string::npos)
    SDD_USER_CHECK(!branch.empty(), name << ": runner " << runner << " needs 'branch:' (oneshot_prune, randomly_prune, randomly_reinitialize or retrain)");
  else
    SDD_USER_CHECK(branch.empty(), name << ": 'branch:' is only valid with a <main>_branch runner");

  // Cartesian product of the sweep lists (first key varies slowest).
  std::vector<std::vector<Assignment>> combos = {base};
  for (const auto& sw : sweeps) {
    std::vector<std::vector<Assignment>> next;
    for (const auto& c : combos)
      for (const auto& v : sw.second) {
        auto n = c;
        Assignment a = sw.first;
        a.value = v;
        n.push_back(a);
        next.push_back(std::move(n));
      }
    combos = std::move(next);
  }
  std::vector<Experiment> out;
  for (const auto& c : combos) out.push_back(experiment_from_assignments(runner, branch, c));
  return out;
}

std::vector<Experiment> load_yaml_config(const std::string& path) {
  std::ifstream f(path);
  SDD_USER_CHECK(f.good(), "cannot read configuration file " << path << "; check the path");
  std::stringstream ss;
  ss << f.rdbuf();
  return experiments_from_yaml(ss.str(), path);
}

namespace {
void emit_value(YAML::Emitter& y, const std::string& key, const Value& v) {
  if (v.none) return;
  if (v.type == FieldType::Bool && !v.b) return;
  y << YAML::Key << key << YAML::Value;
  if (v.type == FieldType::Bool) y << true;
  else if (v.type == FieldType::Str) y << YAML::DoubleQuoted << v.s;
  else y << v.str_();
}
void emit_bundle(YAML::Emitter& y, const Hparams& h, const std::string& prefix) {
  for (const Field& f : h.fields())
    if (f.type != FieldType::Bundle) emit_value(y, prefix + f.name, f.value);
}
}  // namespace

std::string experiment_to_yaml(const Experiment& e) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  y << YAML::Key << "runner" << YAML::Value << e.command;
  if (e.is_branch()) y << YAML::Key << "branch" << YAML::Value << e.branch;
  const GlobalOptions& g = e.global;
  if (g.gpu) emit_value(y, "gpu", Value::str(*g.gpu));
  if (g.fix_all_random_seeds) emit_value(y, "fix_all_random_seeds", Value::integer(*g.fix_all_random_seeds));
  if (g.torch_seed) emit_value(y, "torch_seed", Value::integer(*g.torch_seed));
  emit_value(y, "dataset_root", Value::str(g.dataset_root));
  emit_value(y, "results_root", Value::str(g.results_root));
  if (g.device) emit_value(y, "device", Value::str(*g.device));
  emit_value(y, "precision", Value::str(g.precision));
  emit_value(y, "replicate", Value::integer(g.replicate));
  emit_value(y, "quiet", Value::boolean(g.quiet));
  emit_value(y, "evaluate_only_at_end", Value::boolean(g.evaluate_only_at_end));
  if (e.levels) emit_value(y, "levels", Value::integer(*e.levels));
  if (e.is_branch()) {
    std::string lv;
    for (auto l : e.branch_levels) lv += (lv.empty() ? "" : ",") + std::to_string(l);
    emit_value(y, "levels", Value::str(lv));
  }
  if (!e.rewinding_steps.empty()) emit_value(y, "rewinding_steps", Value::str(e.rewinding_steps));
  emit_value(y, "pretrain", Value::boolean(e.pretrain));
  const Description& d = e.desc;
  emit_bundle(y, d.dataset, "");
  emit_bundle(y, d.model, "");
  emit_bundle(y, d.training, "");
  if (d.pruning) emit_bundle(y, *d.pruning, "");
  if (d.finetuning)
    for (const char* f : {"lr", "training_steps", "milestone_steps", "gamma", "bn_sparsity_regularization"})
      emit_value(y, std::string("finetune_") + f, d.finetuning->field(f).value);
  if (e.pretrain && d.pretrain_dataset && !d.pretrain_from_rewinding) {
    emit_bundle(y, *d.pretrain_dataset, "pretrain_");
    emit_bundle(y, *d.pretrain_training, "pretrain_");
  }
  if (e.branch_hparams) {
    for (const Field& f : e.branch_hparams->fields()) {
      if (f.type == FieldType::Bundle) emit_bundle(y, *f.value.h, f.name + "_");
      else emit_value(y, f.name, f.value);
    }
  }
  y << YAML::EndMap;
  return y.c_str();
}

}  // namespace sdd::exp

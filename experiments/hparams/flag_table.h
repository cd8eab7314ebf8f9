// experiments/hparams/flag_table.h — internal to the flag parser: the table of options a command
// accepts (built from the bundles, the preset, the pruning strategy and --pretrain) and its --help
// rendering in the original group order (SPEC 1.1, 1.2). Not for use outside experiments/hparams.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "experiments/hparams/hparams.h"
#include "models/presets.h"

namespace sdd::exp::detail {

struct FlagSpec {
  std::string name;   // without "--"
  std::string group;
  FieldType type = FieldType::Str;
  Value def;
  bool required = false;
  std::string help;
  std::string default_text;  // overrides the "(default: X)" rendering when set
};

struct Group {
  std::string title, description;
};

// What the pre-read found, and the command being parsed.
struct Context {
  std::string command, runner, branch;
  std::optional<models::Preset> preset;
  std::optional<std::string> strategy;
  bool pretrain = false;
};

struct Table {
  std::vector<Group> groups;
  std::vector<FlagSpec> flags;
  const FlagSpec* find(const std::string& name) const {
    for (const auto& f : flags)
      if (f.name == name) return &f;
    return nullptr;
  }
};


bool is_main_runner(const std::string& r);
Table build_table(const Context& c);
std::string render_help(const Table& t, const Context& c);

}  // namespace sdd::exp::detail

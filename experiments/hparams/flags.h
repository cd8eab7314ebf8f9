// experiments/hparams/flags.h — the original command line: `sparsedd <runner> [flags]` and
// `sparsedd <main>_branch <branch> [flags]` (SPEC 1, 2).
//
// Grammar (argparse-compatible): `--x=v` and `--x v`; store-true booleans; unambiguous prefixes
// (`--level=0-16` -> `--levels`; an ambiguous prefix lists the candidates); `-d` for
// --display_output_location; `-h/--help`. --default_hparams and --pruning_strategy are read first:
// the preset supplies defaults, the strategy adds its own pruning flags; --pretrain adds the
// --pretrain_* groups; finetune adds --finetune_*; the retrain branch adds --retrain_d_* / --retrain_t_*.
// After parsing, --fix_all_random_seeds=S (S != 0) overwrites every option whose name contains
// torch_seed, data_order_seed, transformation_seed or random_mask_seed (SPEC 1.4).
// Every mistake is a one-line UserError.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "experiments/hparams/description.h"

namespace sdd::exp {

// What the command line asks for.
struct ParseOutcome {
  enum class Kind { Run, Help, Welcome, BranchMenu };
  Kind kind = Kind::Run;
  std::string text;     // help / welcome / branch menu text (Kind != Run)
  int exit_code = 0;    // 0 for help, 1 for welcome and branch menu (the original's codes)
  Experiment experiment;  // Kind == Run
};

// args = argv[1..] (without the program name).
ParseOutcome parse_command_line(const std::vector<std::string>& args);

// One option assignment with an exact flag name (no "--"); value nullopt for a switched-on boolean.
// origin prefixes error messages (e.g. "config.yaml:12").
struct Assignment {
  std::string key;
  std::optional<std::string> value;
  std::string origin;
};

// Builds an experiment from exact-name assignments (the YAML path): unknown keys and wrong types are
// UserErrors naming the origin. `branch` is "" for main runners.
Experiment experiment_from_assignments(const std::string& command, const std::string& branch,
                                       const std::vector<Assignment>& assignments);

// The type of option `key` for this command (after presets/strategy from `assignments`); nullopt when
// the command has no such option. Used by YAML to type-check values.
std::optional<FieldType> option_type(const std::string& command, const std::string& branch,
                                     const std::vector<Assignment>& assignments, const std::string& key);

// The branch --levels grammar: "0,3,6", "1-27", "0-2,5-8,12"; de-duplicated, sorted. UserError
// "Invalid level ..." otherwise.
std::vector<int64_t> parse_level_list(const std::string& s);

// The welcome text (exit 1) and the branch menu (exit 1).
std::string welcome_text();
std::string branch_menu_text();

// The --help text of a command (branch "" for main runners), given the other arguments (presets and
// strategy change the defaults shown).
std::string help_text(const std::string& command, const std::string& branch, const std::vector<std::string>& args);

}  // namespace sdd::exp

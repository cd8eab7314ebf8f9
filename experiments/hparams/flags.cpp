// experiments/hparams/flags.cpp — argv pre-reading, tokenizing (prefixes, --x v), assignment, the seed
// rewrite and assembly of the Experiment (SPEC 1.1-1.8, 2.5-2.7); the option table is flag_table.cpp.
#include "experiments/hparams/flags.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <set>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/hparams/bundles.h"
#include "experiments/hparams/flag_table.h"
#include "models/presets.h"

namespace sdd::exp {
namespace {

using detail::Context;
using detail::FlagSpec;
using detail::Table;
using detail::build_table;
using detail::is_main_runner;
using detail::render_help;

const std::string kEq(82, '=');
const std::string kDash(82, '-');

// --------------------------------------------------------------------------------- pre-reading

// Finds `--name=V` / `--name V` (exact spelling) in raw args.
std::optional<std::string> preread(const std::vector<std::string>& toks, const std::string& name) {
  const std::string flag = "--" + name;
  std::optional<std::string> v;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (toks[i] == flag && i + 1 < toks.size()) v = toks[i + 1];
    else if (toks[i].rfind(flag + "=", 0) == 0) v = toks[i].substr(flag.size() + 1);
  }
  return v;
}

void resolve_command(Context& c, const std::string& command) {
  c.command = command;
  const size_t us = command.find('_');
  if (us == std::string::npos) {
    SDD_USER_CHECK(is_main_runner(command), "no such command '" << command << "'; run sparsedd without arguments for the list");
    c.runner = command;
    return;
  }
  const std::string head = command.substr(0, us), tail = command.substr(us + 1);
  SDD_USER_CHECK(tail == "branch" && is_main_runner(head),
                 "no such command '" << command << "'; run sparsedd without arguments for the list");
  SDD_USER_CHECK(head != "train",
                 "train_branch is not supported: branches need a pruning trunk; use lottery_branch, rewindLR_branch, "
                 "finetune_branch or scratch_branch");
  c.runner = head;
}

void apply_prereads(Context& c, const std::optional<std::string>& def_hparams, const std::optional<std::string>& strategy,
                    bool pretrain) {
  if (def_hparams) c.preset = models::get_preset(*def_hparams);
  if (strategy) c.strategy = *strategy;
  else if (c.preset) c.strategy = c.preset->pruning_strategy;
  if (c.strategy && c.runner != "train") pruning_hparams(*c.strategy);  // validates the name
  c.pretrain = pretrain && c.runner != "train";
}

// --------------------------------------------------------------------------------- tokenizing

std::string usage_hint(const Context& c) {
  return "see sparsedd " + c.command + (c.branch.empty() ? "" : " " + c.branch) + " --help";
}

const FlagSpec& match_flag(const Table& t, const Context& c, const std::string& key) {
  if (const FlagSpec* f = t.find(key)) return *f;
  std::vector<const FlagSpec*> cands;
  for (const auto& f : t.flags)
    if (f.name.rfind(key, 0) == 0) cands.push_back(&f);
  if (cands.size() == 1) return *cands[0];
  if (cands.empty()) SDD_USER_FAIL("unrecognized argument --" << key << "; " << usage_hint(c));
  std::string list;
  for (const auto* f : cands) list += (list.empty() ? "--" : ", --") + f->name;
  SDD_USER_FAIL("ambiguous option: --" << key << " could match " << list << "; write more of the name");
}

bool looks_like_value(const std::string& s) {
  if (s.empty() || s[0] != '-') return true;
  return s.size() > 1 && (std::isdigit(static_cast<unsigned char>(s[1])) || s[1] == '.');
}

std::vector<Assignment> tokenize(const Table& t, const Context& c, const std::vector<std::string>& toks) {
  std::vector<Assignment> out;
  for (size_t i = 0; i < toks.size(); ++i) {
    const std::string& tok = toks[i];
    if (tok == "-d") {
      out.push_back({"display_output_location", std::nullopt, ""});
      continue;
    }
    if (tok == "-h") {
      out.push_back({"help", std::nullopt, ""});
      continue;
    }
    SDD_USER_CHECK(tok.size() > 2 && tok.rfind("--", 0) == 0,
                   "unrecognized argument '" << tok << "'; options are written --name=value; " << usage_hint(c));
    const size_t eq = tok.find('=');
    const std::string key = tok.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const FlagSpec& f = match_flag(t, c, key);
    if (f.type == FieldType::Bool) {
      SDD_USER_CHECK(eq == std::string::npos, "argument --" << f.name << ": ignored explicit argument '"
                                                            << tok.substr(eq + 1) << "'; it is a switch, write just --" << f.name);
      out.push_back({f.name, std::nullopt, ""});
    } else if (eq != std::string::npos) {
      out.push_back({f.name, tok.substr(eq + 1), ""});
    } else {
      SDD_USER_CHECK(i + 1 < toks.size() && looks_like_value(toks[i + 1]),
                     "argument --" << f.name << ": expected one argument; write --" << f.name << "=<" << field_type_name(f.type) << ">");
      out.push_back({f.name, toks[++i], ""});
    }
  }
  return out;
}

// --------------------------------------------------------------------------------- assembling

using Namespace = std::map<std::string, Value>;

std::string where(const Assignment& a) { return a.origin.empty() ? "" : a.origin + ": "; }

Namespace apply(const Table& t, const Context& c, const std::vector<Assignment>& as, bool exact) {
  Namespace ns;
  for (const auto& f : t.flags) ns[f.name] = f.def;
  for (const auto& a : as) {
    const FlagSpec* f = t.find(a.key);
    if (!f) {
      SDD_USER_CHECK(!exact, where(a) << "unknown option '" << a.key << "' for " << c.command);
      f = &match_flag(t, c, a.key);
    }
    if (f->type == FieldType::Bool) {
      ns[f->name] = a.value ? parse_value(FieldType::Bool, *a.value, where(a) + "argument --" + f->name) : Value::boolean(true);
    } else {
      SDD_USER_CHECK(a.value.has_value(), where(a) << "argument --" << f->name << ": expected one argument");
      ns[f->name] = parse_value(f->type, *a.value, where(a) + "argument --" + f->name);
    }
  }
  std::string missing;
  for (const auto& f : t.flags)
    if (f.required && ns[f.name].none) missing += (missing.empty() ? "--" : ", --") + f.name;
  SDD_USER_CHECK(missing.empty(), "the following arguments are required: " << missing << "; " << usage_hint(c));

  // --fix_all_random_seeds: substring rewrite (SPEC 1.4).
  const Value& fix = ns["fix_all_random_seeds"];
  if (fix.truthy()) {
    for (auto& kv : ns) {
      const std::string& k = kv.first;
      if (k.find("torch_seed") != std::string::npos || k.find("data_order_seed") != std::string::npos ||
          k.find("transformation_seed") != std::string::npos || k.find("random_mask_seed") != std::string::npos)
        kv.second = Value::integer(fix.i);
    }
  }
  return ns;
}

Hparams fill(Hparams h, const Namespace& ns, const std::string& prefix) {
  for (Field& f : h.fields()) {
    if (f.type == FieldType::Bundle) continue;
    auto it = ns.find(prefix + f.name);
    SDD_CHECK(it != ns.end(), "option --" << prefix << f.name << " missing from the table");
    f.value = it->second;
  }
  return h;
}

void check_steps(const Hparams& h, const std::string& prefix) {
  for (const char* name : {"training_steps", "warmup_steps", "regain_pruned_weights_steps"}) {
    if (!h.has(name)) continue;
    auto v = h.opt_str(name);
    SDD_USER_CHECK(!v || Step::is_valid_str(*v), "argument --" << prefix << name << ": invalid step string '" << *v
                                                               << "'; write e.g. 160ep, 1000it or 1ep100it");
  }
  if (h.has("milestone_steps")) {
    if (auto v = h.opt_str("milestone_steps")) {
      size_t start = 0;
      while (true) {
        const size_t comma = v->find(',', start);
        const std::string part = v->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        SDD_USER_CHECK(Step::is_valid_str(part), "argument --" << prefix << "milestone_steps: invalid step string '" << part
                                                               << "'; write e.g. 80ep,120ep");
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  }
}

std::string env_or(const char* var, const std::string& fallback_leaf) {
  if (const char* v = std::getenv(var); v && *v) return v;
  return io::expand_home("~/" + fallback_leaf);
}

Experiment assemble(const Context& c, const Namespace& ns) {
  Experiment e;
  e.command = c.command;
  e.branch = c.branch;
  auto opt_s = [&](const std::string& k) { const Value& v = ns.at(k); return v.none ? std::optional<std::string>() : std::optional<std::string>(v.s); };
  auto opt_i = [&](const std::string& k) { const Value& v = ns.at(k); return v.none ? std::optional<int64_t>() : std::optional<int64_t>(v.i); };

  GlobalOptions& g = e.global;
  g.display_output_location = ns.at("display_output_location").b;
  g.gpu = opt_s("gpu");
  g.fix_all_random_seeds = opt_i("fix_all_random_seeds");
  g.torch_seed = opt_i("torch_seed");
  g.replicate = ns.at("replicate").i;
  g.default_hparams = opt_s("default_hparams");
  g.quiet = ns.at("quiet").b;
  g.evaluate_only_at_end = ns.at("evaluate_only_at_end").b;
  g.dataset_root = io::expand_home(opt_s("dataset_root").value_or(env_or("SPARSEDD_DATA", "sparsedd_data")));
  g.results_root = io::expand_home(opt_s("results_root").value_or(env_or("SPARSEDD_RESULTS", "sparsedd_results")));
  g.device = opt_s("device");
  g.precision = ns.at("precision").s;
  SDD_USER_CHECK(g.precision == "fp32" || g.precision == "tf32" || g.precision == "bf16",
                 "argument --precision: invalid choice '" << g.precision << "'; use fp32, tf32 or bf16");

  Description& d = e.desc;
  d.runner = c.runner;
  d.dataset = fill(dataset_hparams(), ns, "");
  d.model = fill(model_hparams(), ns, "");
  d.training = fill(training_hparams(), ns, "");
  check_steps(d.training, "");
  if (c.runner != "train") {
    SDD_USER_CHECK(g.replicate > 0, "argument --replicate must be > 0 (got " << g.replicate << ")");
    d.pruning = fill(pruning_hparams(ns.at("pruning_strategy").s), ns, "");
    if (c.branch.empty()) {
      e.levels = ns.at("levels").i;
      SDD_USER_CHECK(*e.levels >= 0, "argument --levels must be >= 0 (got " << *e.levels << ")");
    } else {
      e.branch_levels = parse_level_list(ns.at("levels").s);
    }
  }
  if (c.runner == "finetune") {
    Hparams ft = d.training;
    ft.set_title("Finetuning Hyperparameters");
    const Hparams f = fill(finetuning_hparams(), ns, "finetune_");
    for (const Field& x : f.fields()) ft.set(x.name, x.value);
    check_steps(ft, "finetune_");
    d.finetuning = ft;
  }
  const auto rewind = ns.count("rewinding_steps") ? opt_s("rewinding_steps") : std::nullopt;
  e.rewinding_steps = rewind.value_or("");
  e.pretrain = ns.count("pretrain") && ns.at("pretrain").b;
  if (c.runner == "lottery")
    SDD_USER_CHECK(!(e.pretrain && rewind), "--rewinding_steps and --pretrain cannot be used together; choose one");
  if (e.pretrain && c.pretrain) {
    const std::string pts = ns.at("pretrain_training_steps").s;
    SDD_USER_CHECK(Step::is_valid_str(pts), "argument --pretrain_training_steps: invalid step string '" << pts << "'");
    if (!Step::str_is_zero(pts)) {
      d.pretrain_dataset = fill(dataset_hparams(), ns, "pretrain_");
      d.pretrain_training = fill(training_hparams(), ns, "pretrain_");
      check_steps(*d.pretrain_training, "pretrain_");
      d.pretrain_dataset->set_title("Pretraining " + d.pretrain_dataset->title());
      d.pretrain_training->set_title("Pretraining " + d.pretrain_training->title());
    }
  } else if (rewind && !rewind->empty() && !Step::str_is_zero(*rewind)) {
    SDD_USER_CHECK(Step::is_valid_str(*rewind), "argument --rewinding_steps: invalid step string '" << *rewind
                                                                                                  << "'; write e.g. 1000it or 2ep");
    const std::string prefix = c.runner == "rewindLR" ? "Pretraining for Learning Rate Rewinding " : "Pretraining ";
    d.pretrain_dataset = d.dataset;
    d.pretrain_training = d.training;
    d.pretrain_training->set("training_steps", Value::str(*rewind));
    d.pretrain_dataset->set_title(prefix + d.dataset.title());
    d.pretrain_training->set_title(prefix + d.training.title());
    d.pretrain_from_rewinding = true;
  }

  if (!c.branch.empty()) {
    Hparams bh = branch_hparams(c.branch);
    if (c.branch == "retrain") {
      Hparams rd = fill(dataset_hparams(), ns, "retrain_d_");
      Hparams rt = fill(training_hparams(), ns, "retrain_t_");
      check_steps(rt, "retrain_t_");
      bh.set("retrain_d", Value::bundle(rd));
      bh.set("retrain_t", Value::bundle(rt));
    }
    for (Field& f : bh.fields())
      if (f.type != FieldType::Bundle) f.value = ns.at(f.name);
    if (c.branch == "randomly_prune") {
      const std::string s = bh.str("strategy");
      SDD_USER_CHECK(s != "even", "randomly_prune --strategy=even is not supported (it crashes in the original); "
                                  "use layerwise, global or identity");
      SDD_USER_CHECK(s == "layerwise" || s == "global" || s == "identity",
                     "argument --strategy: invalid choice '" << s << "'; use layerwise, global or identity");
      const std::string at = bh.str("start_at");
      SDD_USER_CHECK(at == "rewind" || at == "init" || at == "end",
                     "argument --start_at: invalid choice '" << at << "'; use rewind, init or end");
    }
    e.branch_hparams = bh;
  }
  return e;
}

// Shared front half: command resolution and pre-reads from raw tokens.
Context context_from_tokens(const std::string& command, const std::string& branch, const std::vector<std::string>& toks) {
  Context c;
  resolve_command(c, command);
  c.branch = branch;
  bool pretrain = std::find(toks.begin(), toks.end(), "--pretrain") != toks.end();
  apply_prereads(c, preread(toks, "default_hparams"), preread(toks, "pruning_strategy"), pretrain);
  return c;
}

Context context_from_assignments(const std::string& command, const std::string& branch, const std::vector<Assignment>& as) {
  Context c;
  resolve_command(c, command);
  c.branch = branch;
  std::optional<std::string> dh, ps;
  bool pretrain = false;
  for (const auto& a : as) {
    if (a.key == "default_hparams") dh = a.value;
    if (a.key == "pruning_strategy") ps = a.value;
    if (a.key == "pretrain") pretrain = !a.value || *a.value == "true" || *a.value == "True";
  }
  apply_prereads(c, dh, ps, pretrain);
  return c;
}

bool is_branch_name(const std::string& b) {
  const auto n = branch_names();
  return std::find(n.begin(), n.end(), b) != n.end();
}

}  // namespace

std::vector<int64_t> parse_level_list(const std::string& s) {
  std::set<int64_t> levels;
  auto digits = [](const std::string& x) {
    return !x.empty() && x.size() < 10 && std::all_of(x.begin(), x.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  };
  size_t start = 0;
  while (true) {
    const size_t comma = s.find(',', start);
    const std::string el = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (digits(el)) {
      levels.insert(std::stoll(el));
    } else {
      const size_t dash = el.find('-');
      const bool ok = dash != std::string::npos && el.find('-', dash + 1) == std::string::npos && digits(el.substr(0, dash)) &&
                      digits(el.substr(dash + 1));
      SDD_USER_CHECK(ok, "Invalid level '" << el << "' in --levels=" << s << "; write levels like 0,3,6 or 1-27 or 0-2,5-8,12");
      const int64_t a = std::stoll(el.substr(0, dash)), b = std::stoll(el.substr(dash + 1));
      for (int64_t l = a; l <= b; ++l) levels.insert(l);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return std::vector<int64_t>(levels.begin(), levels.end());
}

std::string welcome_text() {
  std::string s = kEq + "\nA Framework on Sparse Double Descent Based on open-lth\n" + kDash + "\nChoose a command to run:\n";
  for (const auto& r : runner_names()) s += "    * sparsedd " + r + " [...] => " + runner_description(r) + "\n";
  for (const auto& r : runner_names())
    if (r != "train") s += "    * sparsedd " + r + "_branch [...] => Run a branch of the main experiment.\n";
  return s + kEq + "\n";
}

std::string branch_menu_text() {
  std::string s = kEq + "\nA Framework on Pruning Robustness Based on open-lth\n" + kDash + "\nChoose a branch to run:\n";
  for (const auto& b : branch_names())
    s += "    * sparsedd [main experiment]_branch " + b + " [...] => " + branch_description(b) + "\n";
  return s + kEq + "\n";
}

std::string help_text(const std::string& command, const std::string& branch, const std::vector<std::string>& args) {
  const Context c = context_from_tokens(command, branch, args);
  return render_help(build_table(c), c);
}

ParseOutcome parse_command_line(const std::vector<std::string>& args) {
  ParseOutcome out;
  const bool no_cmd = args.empty() || args[0].empty() || args[0][0] == '-';
  bool known = false, is_branch = false;
  if (!no_cmd) {
    const std::string& cmd = args[0];
    const size_t us = cmd.find('_');
    if (us == std::string::npos) known = is_main_runner(cmd);
    else {
      is_branch = true;
      known = cmd.substr(us + 1) == "branch" && cmd.find('_', us + 1) == std::string::npos && is_main_runner(cmd.substr(0, us));
    }
  }
  if (!known) {
    out.kind = ParseOutcome::Kind::Welcome;
    out.text = welcome_text();
    out.exit_code = 1;
    return out;
  }
  const std::string command = args[0];
  std::string branch;
  size_t rest = 1;
  if (is_branch) {
    Context tmp;
    resolve_command(tmp, command);  // rejects train_branch clearly
    if (args.size() < 2 || !is_branch_name(args[1])) {
      out.kind = ParseOutcome::Kind::BranchMenu;
      out.text = branch_menu_text();
      out.exit_code = 1;
      return out;
    }
    branch = args[1];
    rest = 2;
  }
  const std::vector<std::string> toks(args.begin() + static_cast<std::ptrdiff_t>(rest), args.end());
  const Context c = context_from_tokens(command, branch, toks);
  const Table t = build_table(c);
  if (std::find(toks.begin(), toks.end(), "-h") != toks.end() || std::find(toks.begin(), toks.end(), "--help") != toks.end()) {
    out.kind = ParseOutcome::Kind::Help;
    out.text = render_help(t, c);
    out.exit_code = 0;
    return out;
  }
  const std::vector<Assignment> as = tokenize(t, c, toks);
  for (const auto& a : as)
    if (a.key == "help") {
      out.kind = ParseOutcome::Kind::Help;
      out.text = render_help(t, c);
      return out;
    }
  out.experiment = assemble(c, apply(t, c, as, false));
  return out;
}

Experiment experiment_from_assignments(const std::string& command, const std::string& branch, const std::vector<Assignment>& as) {
  if (command.find('_') != std::string::npos) {
    Context tmp;
    resolve_command(tmp, command);
    SDD_USER_CHECK(is_branch_name(branch), "no such branch '" << branch
                                                              << "'; use oneshot_prune, randomly_prune, randomly_reinitialize or retrain");
  }
  const Context c = context_from_assignments(command, branch, as);
  const Table t = build_table(c);
  for (const auto& a : as)
    SDD_USER_CHECK(t.find(a.key) != nullptr && a.key != "help",
                   where(a) << "unknown key '" << a.key << "' for " << command << (branch.empty() ? "" : " " + branch)
                            << "; keys are the flag names without --, see sparsedd " << command << (branch.empty() ? "" : " " + branch)
                            << " --help");
  return assemble(c, apply(t, c, as, true));
}

std::optional<FieldType> option_type(const std::string& command, const std::string& branch, const std::vector<Assignment>& as,
                                     const std::string& key) {
  const Context c = context_from_assignments(command, branch, as);
  const Table t = build_table(c);
  const FlagSpec* f = t.find(key);
  if (!f || key == "help") return std::nullopt;
  return f->type;
}

}  // namespace sdd::exp

// experiments/main.cpp — the `sparsedd` binary. The only place that turns exceptions into exit codes:
// UserError -> 2 with a one-line message "sparsedd: error: ...", any other error -> 1.
//
//   sparsedd <runner> [flags]                  train, lottery, rewindLR, finetune, scratch (SPEC 1)
//   sparsedd <runner>_branch <branch> [flags]  runs a branch of a finished trunk (experiments/branches/)
//   sparsedd run FILE.yaml [-d]                the experiment(s) of a YAML file, sweeps one after another
//   sparsedd model NAME [--outputs N]          the tensors of a model
//   sparsedd dataset NAME [flags]              the splits after the training-set transformations
//   sparsedd report DIR... [--out DIR]         report.csv/.md/.svg/.png of one or more experiments
//   -d / --display_output_location             print where the results go (one line per level) and exit
// Data parallelism: --gpu=0,1,2,3 trains one replica per GPU in this process (SPARSEDD_CPU_REPLICAS=N:
// N CPU replicas); `mpirun -np N sparsedd ...` runs one replica per process, only rank 0 prints and writes.
// No or an unknown command prints the welcome text and exits 1.
#include <cstdio>
#include <exception>
#include <sstream>
#include <iostream>
#include <string>
#include <vector>

#include "engine/cpu/cpu_backend.h"
#include "engine/errors.h"
#include "experiments/data/dataset_command.h"
#include "experiments/hparams/flags.h"
#include "experiments/hparams/yaml_config.h"
#include "experiments/report/report_command.h"
#include "experiments/runners/paths.h"
#include "experiments/runners/runner.h"
#include "models/model_command.h"

namespace {

const char* kRunUsage =
    "usage: sparsedd run FILE.yaml [-d]\n"
    "Runs the experiment(s) described by a YAML file: keys are the flag names without --, `runner:` names\n"
    "the runner (e.g. lottery), an optional `sweep:` maps keys to lists whose product gives several\n"
    "experiments, run one after another. -d prints where each experiment writes and exits.\n";

const char* kOtherCommands =
    "Other commands:\n"
    "    * sparsedd run FILE.yaml [-d] => Run the experiment(s) of a YAML file (see experiments/configs/).\n"
    "    * sparsedd model NAME [--outputs N] => List the tensors of a model.\n"
    "    * sparsedd dataset NAME [...] => Show a dataset after label noise and subsampling.\n"
    "    * sparsedd report DIR... [--out DIR] => Tables and plots of accuracy against remaining weights.\n";

void print_locations(const sdd::exp::Experiment& e) {
  for (const std::string& p : sdd::exp::output_locations(e)) std::cout << p << "\n";
}

void run_one(const sdd::exp::Experiment& e) {
  using namespace sdd;
  static bool warned = false;  // the no-CUDA warning is printed once per process
  std::ostringstream warn;
  exp::RunContext ctx = exp::make_run_context(e.global, warn);
  if (!ctx.writes_files()) {   // an MPI rank other than 0 (mpirun -np N): it trains silently
    std::ostream silent(nullptr);
    exp::run_experiment(e, ctx, silent);
    return;
  }
  if (!warned && !warn.str().empty()) {
    std::cerr << warn.str();
    warned = true;
  }
  exp::run_experiment(e, ctx, std::cout);
}

int run_yaml(const std::vector<std::string>& args) {
  std::string file;
  bool display = false;
  for (const std::string& a : args) {
    if (a == "-h" || a == "--help") {
      std::cout << kRunUsage;
      return 0;
    }
    if (a == "-d" || a == "--display_output_location") display = true;
    else if (file.empty() && a.rfind("-", 0) != 0) file = a;
    else SDD_USER_FAIL("unexpected argument '" << a << "' for sparsedd run; usage: sparsedd run FILE.yaml [-d]");
  }
  SDD_USER_CHECK(!file.empty(), "sparsedd run needs a YAML file: sparsedd run experiments/configs/quickstart.yaml");
  const std::vector<sdd::exp::Experiment> exps = sdd::exp::load_yaml_config(file);
  for (size_t i = 0; i < exps.size(); ++i) {
    if (display || exps[i].global.display_output_location) {
      print_locations(exps[i]);
      continue;
    }
    if (exps.size() > 1) std::cout << "sweep: experiment " << (i + 1) << " of " << exps.size() << "\n";
    run_one(exps[i]);
  }
  return 0;
}

int dispatch(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "model") return sdd::models::model_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "dataset") return sdd::exp::dataset_command({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "run") return run_yaml({args.begin() + 1, args.end()});
  if (!args.empty() && args[0] == "report") return sdd::exp::report_command({args.begin() + 1, args.end()});

  const sdd::exp::ParseOutcome po = sdd::exp::parse_command_line(args);
  switch (po.kind) {
    case sdd::exp::ParseOutcome::Kind::Welcome:
      if (args.empty()) std::cerr << "usage: sparsedd <command> [...]\nsparsedd: error: the following arguments are required: command\n";
      std::cout << po.text << (po.text.empty() || po.text.back() == '\n' ? "" : "\n") << kOtherCommands;
      return po.exit_code;
    case sdd::exp::ParseOutcome::Kind::Help:
    case sdd::exp::ParseOutcome::Kind::BranchMenu:
      std::cout << po.text << (po.text.empty() || po.text.back() == '\n' ? "" : "\n");
      return po.exit_code;
    case sdd::exp::ParseOutcome::Kind::Run:
      break;
  }
  const sdd::exp::Experiment& e = po.experiment;
  if (e.global.display_output_location) {
    print_locations(e);
    return 0;
  }
  run_one(e);
  return 0;
}

// One line: newlines inside a message become "; ".
std::string one_line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  for (size_t p; (p = s.find('\n')) != std::string::npos;) s.replace(p, 1, "; ");
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    sdd::cpu::configure_threads_from_env();
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const sdd::UserError& e) {
    std::cout.flush();
    std::fprintf(stderr, "sparsedd: error: %s\n", one_line(e.what()).c_str());
    return 2;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::fprintf(stderr, "sparsedd: internal error: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}

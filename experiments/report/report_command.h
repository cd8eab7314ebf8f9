// experiments/report/report_command.h — `sparsedd report [--out DIR] EXPERIMENT_DIR...`
//
// Reads every replicate, level, trunk and branch of the given experiment directories (a bare
// name such as lottery_<md5> is looked up under --results_root, else $SPARSEDD_RESULTS, else
// ~/sparsedd_results), prints one table per series, and writes report.csv, report.md, report.svg and
// report.png (plus report.gp / report_plot.dat, the gnuplot inputs) into --out (default: the current
// directory). Without gnuplot the tables are still written and a warning line is printed (exit 0).
#pragma once
#include <string>
#include <vector>

namespace sdd::exp {

// `args` are the arguments after "report". Returns the exit code (0 on success); throws UserError
// (one line) for a bad flag or an input that is not an experiment directory.
int report_command(const std::vector<std::string>& args);

// The --help text.
std::string report_usage();

}  // namespace sdd::exp

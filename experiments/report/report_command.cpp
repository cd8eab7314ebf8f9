// experiments/report/report_command.cpp — the `sparsedd report` subcommand: flags, then read,
// tabulate, plot.
#include "experiments/report/report_command.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/report/report_data.h"
#include "experiments/report/report_plot.h"
#include "experiments/report/report_tables.h"

namespace sdd::exp {

std::string report_usage() {
  return "usage: sparsedd report [--out DIR] [--results_root DIR] [--no_plot] EXPERIMENT_DIR...\n"
         "\n"
         "Summarises finished and running experiments: for every series (the trunk and each branch of\n"
         "each experiment directory) and level, the remaining weights and the last/best test accuracy,\n"
         "last train accuracy and last clean train accuracy, as the mean and min-max band over replicates.\n"
         "Missing and unfinished levels are listed as such.\n"
         "\n"
         "  EXPERIMENT_DIR      <results_root>/<runner>_<md5> (or just its name, looked up under the\n"
         "                      results root); several directories are drawn as separate series\n"
         "  --out DIR           where to write report.csv, report.md, report.svg, report.png, report.gp\n"
         "                      and report_plot.dat (default: the current directory; created if needed)\n"
         "  --results_root DIR  where bare names are looked up (default: $SPARSEDD_RESULTS, else\n"
         "                      ~/sparsedd_results)\n"
         "  --no_plot           write the tables only\n"
         "\n"
         "Plots need gnuplot (Debian package gnuplot-nox); $SPARSEDD_GNUPLOT overrides the executable.\n";
}

namespace {

std::string default_results_root() {
  if (const char* env = std::getenv("SPARSEDD_RESULTS"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/sparsedd_results";
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
  std::string out_dir = ".";
  std::string results_root;
  bool plot = true;
  std::vector<std::string> inputs;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (a == flag) {
        SDD_USER_CHECK(i + 1 < args.size(), "report: " << flag << " needs a directory, e.g. " << flag
                                                       << " results/report");
        return args[++i];
      }
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (a == "--help" || a == "-h") {
      std::cout << report_usage();
      return 0;
    } else if (auto v = value("--out")) {
      out_dir = io::expand_home(*v);
    } else if (auto v = value("--results_root")) {
      results_root = io::expand_home(*v);
    } else if (a == "--no_plot") {
      plot = false;
    } else if (a.size() > 1 && a[0] == '-') {
      SDD_USER_FAIL("report: unknown flag " << a << "; see `sparsedd report --help`");
    } else {
      inputs.push_back(io::expand_home(a));
    }
  }
  SDD_USER_CHECK(!inputs.empty(), "report: no experiment directory given; usage: sparsedd report "
                                  "[--out DIR] <results_root>/<runner>_<md5> ...");
  if (results_root.empty()) results_root = default_results_root();
  for (std::string& in : inputs)
    if (!io::directory_exists(in) && in.find('/') == std::string::npos &&
        io::directory_exists(results_root + "/" + in))
      in = results_root + "/" + in;

  std::vector<Series> series = read_experiments(inputs);

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  SDD_USER_CHECK(io::directory_exists(out_dir), "report: cannot create the output directory "
                                                    << out_dir << "; pass a writable --out DIR");
  std::cout << report_text(series);
  io::write_file_atomic(out_dir + "/report.csv", report_csv(series));
  io::write_file_atomic(out_dir + "/report.md", report_markdown(series));
  std::cout << "wrote " << out_dir << "/report.csv, " << out_dir << "/report.md";
  int rc = 0;
  if (plot) {
    PlotResult p = write_plots(series, out_dir);
    if (p.svg_written) std::cout << ", " << out_dir << "/report.svg";
    if (p.png_written) std::cout << ", " << out_dir << "/report.png";
    std::cout << "\n";
    if (!p.message.empty()) std::cerr << p.message << "\n";
    // gnuplot present but failing is an error; gnuplot missing or nothing to draw is a warning.
    if (p.failed) rc = 1;
  } else {
    std::cout << "\n";
  }
  return rc;
}

}  // namespace sdd::exp

// experiments/report/report_plot.h — report.svg and report.png of `sparsedd report`, drawn by gnuplot.
//
// Two panels: test accuracy (%) and train accuracy (%) against the remaining weights (%), log x axis
// running from 100 % on the left to the sparsest level on the right (as in the paper's figures).
// Each series (trunk or branch of each experiment) is one line through the per-level means with a
// shaded min–max band over replicates, and one legend entry (its label).
//
// We write report.gp and report_plot.dat into the output directory (so the figure can be restyled
// and redrawn with `gnuplot report.gp` there), run gnuplot as a subprocess, and move its outputs in
// place atomically. The gnuplot executable is $SPARSEDD_GNUPLOT when set, else `gnuplot` on PATH.
#pragma once
#include <string>
#include <vector>

#include "experiments/report/report_data.h"

namespace sdd::exp {

struct PlotResult {
  bool gnuplot_found = false;
  bool svg_written = false;
  bool png_written = false;
  bool failed = false;   // gnuplot ran but did not produce both files (an error, not a warning)
  std::string message;   // a warning or error line when something was not drawn ("" otherwise)
};

// The executable to run ("" when not found).
std::string find_gnuplot();

// report_plot.dat: one gnuplot index block per plotted series, rows
//   remaining% mean_test min_test max_test mean_train min_train max_train   ("?" when missing).
// `plotted` receives the indices (into `series`) of the series that have at least one point.
std::string gnuplot_data(const std::vector<Series>& series, std::vector<size_t>& plotted);

// report.gp for the given data (data file name relative to the output directory).
std::string gnuplot_script(const std::vector<Series>& series, const std::vector<size_t>& plotted,
                           const std::string& data_file);

// Writes report.gp + report_plot.dat and draws report.svg / report.png in out_dir.
PlotResult write_plots(const std::vector<Series>& series, const std::string& out_dir);

}  // namespace sdd::exp

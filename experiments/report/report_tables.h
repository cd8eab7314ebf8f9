// experiments/report/report_tables.h — the text outputs of `sparsedd report`.
//
//   report.csv  one row per (series, replicate, level), every value in full precision (Python float
//               repr, so logged values appear exactly as in the logger); accuracies as logged (0..1).
//   report.md   one markdown table per series: per level the remaining weights and, in percent, the
//               mean (min–max over replicates) of last/best test accuracy and last train accuracy.
//   terminal    the same tables as aligned plain text.
#pragma once
#include <string>
#include <vector>

#include "experiments/report/report_data.h"

namespace sdd::exp {

// Column names of report.csv, in order.
const std::vector<std::string>& report_csv_columns();

std::string report_csv(const std::vector<Series>& series);
std::string report_markdown(const std::vector<Series>& series);
std::string report_text(const std::vector<Series>& series);

// Remaining weights for display: "100", "51.2", "0.1245" (4 significant digits).
std::string format_percent(double v);

}  // namespace sdd::exp

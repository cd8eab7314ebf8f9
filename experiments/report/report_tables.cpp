// experiments/report/report_tables.cpp — report.csv, report.md and the terminal table.
#include "experiments/report/report_tables.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "experiments/pyfmt.h"
#include "experiments/report/report_summary.h"

namespace sdd::exp {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string opt_num(const std::optional<double>& v) { return v ? py_float_repr(*v) : std::string(); }

std::string level_text(int64_t level) { return level == kReportNoLevel ? "-" : std::to_string(level); }

std::string fixed2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

// "91.23 (90.10–92.35)" for several replicates, "91.23" for one, "" for none.
std::string band_text(const std::optional<Band>& b, const char* dash) {
  if (!b) return "";
  if (b->n == 1) return fixed2(b->mean);
  return fixed2(b->mean) + " (" + fixed2(b->min) + dash + fixed2(b->max) + ")";
}

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// The per-level table of one series (shared by markdown and terminal output).
Table series_table(const Series& s, const char* dash) {
  Table t;
  std::vector<LevelSummary> levels = summarize(s);
  bool clean = std::any_of(levels.begin(), levels.end(),
                           [](const LevelSummary& L) { return L.last_train_clean.has_value(); });
  bool train = std::any_of(levels.begin(), levels.end(),
                           [](const LevelSummary& L) { return L.last_train.has_value(); });
  t.header = {"level", "weights %", "last test acc %", "best test acc %"};
  if (train) t.header.push_back("last train acc %");
  if (clean) t.header.push_back("last clean train acc %");
  t.header.push_back("replicates");
  for (const LevelSummary& L : levels) {
    std::vector<std::string> row = {level_text(L.level),
                                    L.remaining_percent ? format_percent(*L.remaining_percent) : "?",
                                    band_text(L.last_test, dash), band_text(L.best_test, dash)};
    if (train) row.push_back(band_text(L.last_train, dash));
    if (clean) row.push_back(band_text(L.last_train_clean, dash));
    row.push_back(L.status);
    t.rows.push_back(row);
  }
  return t;
}

std::string series_title(const Series& s) {
  std::ostringstream os;
  os << s.label << " — " << s.experiment_path;
  if (!s.branch.empty()) os << " / " << s.branch;
  return os.str();
}

// Display width of UTF-8 text (counts code points).
size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string format_percent(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

const std::vector<std::string>& report_csv_columns() {
  static const std::vector<std::string> cols = {
      "series", "experiment", "branch", "replicate", "level", "status", "remaining_weights_percent",
      "total", "unpruned", "last_iteration", "last_test_accuracy", "best_test_accuracy",
      "last_train_accuracy", "last_train_clean_accuracy", "last_test_loss", "last_train_loss", "note"};
  return cols;
}

std::string report_csv(const std::vector<Series>& series) {
  std::ostringstream os;
  const auto& cols = report_csv_columns();
  for (size_t i = 0; i < cols.size(); ++i) os << (i ? "," : "") << cols[i];
  os << "\n";
  for (const Series& s : series)
    for (const RunRecord& r : s.runs) {
      std::vector<std::string> f = {
          s.label, s.experiment, s.branch, std::to_string(r.replicate),
          r.level == kReportNoLevel ? "" : std::to_string(r.level), run_status_name(r.status),
          opt_num(r.remaining_percent()), opt_num(r.total), opt_num(r.unpruned),
          r.last_iteration ? std::to_string(*r.last_iteration) : "", opt_num(r.last_test_accuracy),
          opt_num(r.best_test_accuracy), opt_num(r.last_train_accuracy),
          opt_num(r.last_train_clean_accuracy), opt_num(r.last_test_loss), opt_num(r.last_train_loss),
          r.note};
      for (size_t i = 0; i < f.size(); ++i) os << (i ? "," : "") << csv_field(f[i]);
      os << "\n";
    }
  return os.str();
}

std::string report_markdown(const std::vector<Series>& series) {
  std::ostringstream os;
  os << "# sparsedd report\n\nAccuracies in percent: mean over finished replicates, (min–max) when "
        "there are several.\n";
  for (const Series& s : series) {
    Table t = series_table(s, "–");
    os << "\n## " << series_title(s) << "\n\n|";
    for (const auto& h : t.header) os << " " << h << " |";
    os << "\n|";
    for (size_t i = 0; i < t.header.size(); ++i) os << (i < 2 ? "---:|" : "---|");
    os << "\n";
    for (const auto& row : t.rows) {
      os << "|";
      for (const auto& c : row) os << " " << c << " |";
      os << "\n";
    }
    if (t.rows.empty()) os << "\n(no levels yet)\n";
  }
  return os.str();
}

std::string report_text(const std::vector<Series>& series) {
  std::ostringstream os;
  for (const Series& s : series) {
    Table t = series_table(s, "-");
    os << series_title(s) << "\n";
    std::vector<size_t> w(t.header.size());
    for (size_t i = 0; i < w.size(); ++i) w[i] = width(t.header[i]);
    for (const auto& row : t.rows)
      for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], width(row[i]));
    auto line = [&](const std::vector<std::string>& cells) {
      for (size_t i = 0; i < cells.size(); ++i) {
        os << "  " << cells[i];
        if (i + 1 < cells.size()) os << std::string(w[i] - width(cells[i]), ' ');
      }
      os << "\n";
    };
    line(t.header);
    for (const auto& row : t.rows) line(row);
    if (t.rows.empty()) os << "  (no levels yet)\n";
    os << "\n";
  }
  return os.str();
}

}  // namespace sdd::exp

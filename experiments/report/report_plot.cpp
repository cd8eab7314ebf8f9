// experiments/report/report_plot.cpp — gnuplot script + data for the report figures, and running
// gnuplot as a subprocess (fork/exec, stderr captured for the error message).
#include "experiments/report/report_plot.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/pyfmt.h"
#include "experiments/report/report_summary.h"

namespace sdd::exp {

namespace {

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                               "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
constexpr size_t kNumColors = sizeof(kColors) / sizeof(kColors[0]);

std::string gp_quote(const std::string& s) {   // a gnuplot double-quoted string
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string num(double v) { return py_float_repr(v); }

// Plottable levels of a series: remaining weights known and a finished test accuracy.
std::vector<LevelSummary> plot_points(const Series& s) {
  std::vector<LevelSummary> pts;
  for (const LevelSummary& L : summarize(s))
    if (L.remaining_percent && *L.remaining_percent > 0 && L.last_test) pts.push_back(L);
  return pts;
}

bool executable(const std::string& path) { return !path.empty() && access(path.c_str(), X_OK) == 0; }

// Runs argv in `cwd`; returns the exit status (127 when it could not start) and the combined
// stdout/stderr in `output`.
int run_process(const std::vector<std::string>& argv, const std::string& cwd, std::string& output) {
  int fds[2];
  if (pipe(fds) != 0) SDD_FAIL("pipe failed: " << std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) SDD_FAIL("fork failed: " << std::strerror(errno));
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[1]);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) output.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string join_path(const std::string& dir, const std::string& name) {
  return dir.empty() || dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Moves a file gnuplot wrote into place atomically (read, atomic write, remove the temporary).
bool publish(const std::string& tmp, const std::string& target) {
  if (!io::file_exists(tmp)) return false;
  std::string contents = io::read_file(tmp);
  std::remove(tmp.c_str());
  if (contents.empty()) return false;
  io::write_file_atomic(target, contents);
  return true;
}

}  // namespace

std::string find_gnuplot() {
  if (const char* env = std::getenv("SPARSEDD_GNUPLOT")) return executable(env) ? env : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::stringstream ss(p);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    std::string cand = join_path(dir.empty() ? "." : dir, "gnuplot");
    if (executable(cand)) return cand;
  }
  return "";
}

std::string gnuplot_data(const std::vector<Series>& series, std::vector<size_t>& plotted) {
  plotted.clear();
  std::ostringstream os;
  os << "# report_plot.dat — written by `sparsedd report`; one index block per series:\n"
        "# remaining_weights_percent mean_test min_test max_test mean_train min_train max_train\n";
  for (size_t i = 0; i < series.size(); ++i) {
    std::vector<LevelSummary> pts = plot_points(series[i]);
    if (pts.empty()) continue;
    if (!plotted.empty()) os << "\n\n";   // gnuplot index separator
    plotted.push_back(i);
    os << "# " << series[i].label << "\n";
    std::sort(pts.begin(), pts.end(), [](const LevelSummary& a, const LevelSummary& b) {
      return *a.remaining_percent > *b.remaining_percent;
    });
    for (const LevelSummary& L : pts) {
      os << num(*L.remaining_percent) << " " << num(L.last_test->mean) << " " << num(L.last_test->min)
         << " " << num(L.last_test->max);
      if (L.last_train)
        os << " " << num(L.last_train->mean) << " " << num(L.last_train->min) << " "
           << num(L.last_train->max);
      else
        os << " ? ? ?";
      os << "\n";
    }
  }
  return os.str();
}

std::string gnuplot_script(const std::vector<Series>& series, const std::vector<size_t>& plotted,
                           const std::string& data_file) {
  double lo = 100, hi = 100;
  bool any_train = false;
  std::vector<bool> has_train(series.size(), false);
  for (size_t i : plotted)
    for (const LevelSummary& L : plot_points(series[i])) {
      lo = std::min(lo, *L.remaining_percent);
      hi = std::max(hi, *L.remaining_percent);
      if (L.last_train) any_train = has_train[i] = true;
    }
  // Reversed log axis: 100 % (dense) on the left, the sparsest level on the right.
  double x_left = hi * 1.25, x_right = lo / 1.25;
  // Tic labels at 1-2-5 steps (powers of ten only when the range spans more than four decades).
  std::string xtics;
  bool wide = std::log10(x_left / x_right) > 4;
  for (double decade = std::pow(10.0, std::floor(std::log10(x_left))); decade >= x_right / 10; decade /= 10)
    for (double m : {1.0, 0.5, 0.2}) {
      double t = decade * m;
      if ((wide && m != 1.0) || t > x_left || t < x_right) continue;
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", t);
      xtics += std::string(xtics.empty() ? "" : ", ") + "\"" + buf + "\" " + buf;
    }

  auto panel = [&](bool train) {
    std::ostringstream os;
    os << "set title " << gp_quote(train ? "Train accuracy" : "Test accuracy") << "\n"
       << "set ylabel " << gp_quote(train ? "train accuracy (%)" : "test accuracy (%)") << "\n";
    int col = train ? 5 : 2;
    std::vector<std::string> items;
    for (size_t k = 0; k < plotted.size(); ++k) {
      size_t i = plotted[k];
      if (train && !has_train[i]) continue;
      std::string color = gp_quote(kColors[k % kNumColors]);
      std::string src = gp_quote(data_file) + " index " + std::to_string(k);
      items.push_back(src + " using 1:" + std::to_string(col + 1) + ":" + std::to_string(col + 2) +
                      " with filledcurves lc rgb " + color + " notitle");
      items.push_back(src + " using 1:" + std::to_string(col) +
                      " with linespoints lw 2 pt 7 ps 0.8 lc rgb " + color + " title " +
                      gp_quote(series[i].label));
    }
    os << "plot ";
    for (size_t j = 0; j < items.size(); ++j) os << (j ? ", \\\n     " : "") << items[j];
    os << "\n";
    return os.str();
  };
  std::string panels = any_train ? "set multiplot layout 1,2\n" + panel(false) + panel(true) +
                                       "unset multiplot\n"
                                 : panel(false);
  int width = any_train ? 1400 : 800;

  std::ostringstream os;
  os << "# report.gp — written by `sparsedd report`; redraw with `gnuplot report.gp` in this "
        "directory.\n"
     << "if (!exists(\"svg_out\")) svg_out = \"report.svg\"\n"
     << "if (!exists(\"png_out\")) png_out = \"report.png\"\n"
     << "set datafile missing \"?\"\n"
     << "set logscale x 10\n"
     << "set xrange [" << num(x_left) << ":" << num(x_right) << "]\n"
     << "set format x \"%g\"\n"
     << (xtics.empty() ? std::string() : "set xtics (" + xtics + ")\n")
     << "set xlabel \"remaining weights (%)\"\n"
     << "set grid\n"
     << "set key below Left reverse\n"
     << "set style fill transparent solid 0.2 noborder\n\n"
     << "set terminal svg size " << width << ",560 noenhanced font \"sans,11\" background rgb "
                                             "\"white\"\n"
     << "set output svg_out\n"
     << panels << "set output\n\n"
     << "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
     << "  set terminal pngcairo size " << width << ",560 noenhanced font \"sans,10\"\n"
     << "} else {\n"
     << "  set terminal png size " << width << ",560 noenhanced\n"
     << "}\n"
     << "set output png_out\n"
     << panels << "set output\n";
  return os.str();
}

PlotResult write_plots(const std::vector<Series>& series, const std::string& out_dir) {
  PlotResult res;
  std::vector<size_t> plotted;
  std::string data = gnuplot_data(series, plotted);
  if (plotted.empty()) {
    res.gnuplot_found = !find_gnuplot().empty();
    res.message = "warning: no finished level with a known sparsity yet; report.svg/report.png not drawn";
    return res;
  }
  io::write_file_atomic(join_path(out_dir, "report_plot.dat"), data);
  io::write_file_atomic(join_path(out_dir, "report.gp"), gnuplot_script(series, plotted, "report_plot.dat"));

  std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) {
    res.message = "warning: gnuplot not found, so report.svg/report.png were not drawn; install it "
                  "(apt-get install gnuplot-nox) and rerun, or run `gnuplot report.gp` in " + out_dir;
    return res;
  }
  res.gnuplot_found = true;
  const std::string svg_tmp = ".report.svg.tmp", png_tmp = ".report.png.tmp";
  std::string output;
  int rc = run_process({gnuplot, "-e", "svg_out='" + svg_tmp + "'; png_out='" + png_tmp + "'", "report.gp"},
                       out_dir, output);
  res.svg_written = publish(join_path(out_dir, svg_tmp), join_path(out_dir, "report.svg"));
  res.png_written = publish(join_path(out_dir, png_tmp), join_path(out_dir, "report.png"));
  if (rc != 0 || !res.svg_written || !res.png_written) {
    res.failed = true;
    // gnuplot's last non-empty output line says what went wrong.
    std::string last;
    std::stringstream ss(output);
    for (std::string line; std::getline(ss, line);)
      if (line.find_first_not_of(" \t^") != std::string::npos) last = line;
    res.message = "error: gnuplot (" + gnuplot + ") exited with status " + std::to_string(rc) +
                  (last.empty() ? "" : ": " + last) + "; see " + join_path(out_dir, "report.gp");
  }
  return res;
}

}  // namespace sdd::exp

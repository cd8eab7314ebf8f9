// tests/test_report_plot.cpp — `sparsedd report` figures: the gnuplot script (reversed log axis),
// report.svg well-formed XML with one legend entry per series, report.png, and the no-gnuplot path.
#include <catch2/catch.hpp>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/io/atomic_file.h"
#include "experiments/report/report_command.h"
#include "experiments/report/report_data.h"
#include "experiments/report/report_plot.h"
#include "test_report_fixture.h"

using namespace sdd::exp;
using namespace report_test;

namespace {

// A minimal XML well-formedness checker: prolog (declaration, comments, DOCTYPE), one root element,
// matched tags, quoted unique attributes, valid entity references, no stray '<'. Collects the text
// content of every <text> element (entities decoded). Returns "" when well formed, else the problem.
struct XmlCheck {
  const std::string& s;
  size_t i = 0;
  std::vector<std::string> texts;

  explicit XmlCheck(const std::string& src) : s(src) {}

  static bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
  static bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
  }
  bool starts(const char* p) const { return s.compare(i, std::strlen(p), p) == 0; }
  void skip_ws() { while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i; }

  std::string name() {
    size_t b = i;
    if (i >= s.size() || !name_start(s[i])) return "";
    while (i < s.size() && name_char(s[i])) ++i;
    return s.substr(b, i - b);
  }
  // Decodes character data up to '<'; "" on a bad entity.
  bool chars(std::string& out, char stop) {
    while (i < s.size() && s[i] != stop && !(stop == '<' && s[i] == '<')) {
      if (s[i] == '<') return false;
      if (s[i] == '&') {
        size_t semi = s.find(';', i);
        if (semi == std::string::npos) return false;
        std::string ent = s.substr(i + 1, semi - i - 1);
        if (ent == "amp") out += '&';
        else if (ent == "lt") out += '<';
        else if (ent == "gt") out += '>';
        else if (ent == "quot") out += '"';
        else if (ent == "apos") out += '\'';
        else if (ent.size() > 1 && ent[0] == '#') {
          bool hex = ent[1] == 'x';
          std::string digits = ent.substr(hex ? 2 : 1);
          if (digits.empty()) return false;
          for (char c : digits)
            if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c))))
              return false;
          out += '?';
        } else {
          return false;
        }
        i = semi + 1;
      } else {
        out += s[i++];
      }
    }
    return true;
  }
  bool skip_until(const char* end) {
    size_t e = s.find(end, i);
    if (e == std::string::npos) return false;
    i = e + std::strlen(end);
    return true;
  }

  std::string run() {
    // Prolog.
    for (;;) {
      skip_ws();
      if (starts("<?")) { if (!skip_until("?>")) return "unterminated <?"; }
      else if (starts("<!--")) { if (!skip_until("-->")) return "unterminated comment"; }
      else if (starts("<!DOCTYPE")) {
        int depth = 0;
        for (; i < s.size(); ++i) {
          if (s[i] == '[') ++depth;
          else if (s[i] == ']') --depth;
          else if (s[i] == '>' && depth == 0) break;
        }
        if (i >= s.size()) return "unterminated DOCTYPE";
        ++i;
      } else break;
    }
    std::vector<std::string> stack;
    std::vector<std::string> text_stack;   // open <text> contents
    bool root_done = false;
    while (i < s.size()) {
      if (stack.empty()) {
        skip_ws();
        if (i >= s.size()) break;
        if (starts("<!--")) { if (!skip_until("-->")) return "unterminated comment"; continue; }
        if (root_done) return "content after the root element at " + std::to_string(i);
        if (s[i] != '<') return "text outside the root element at " + std::to_string(i);
      }
      if (starts("<!--")) { if (!skip_until("-->")) return "unterminated comment"; continue; }
      if (starts("<![CDATA[")) {
        size_t b = i + 9;
        if (!skip_until("]]>")) return "unterminated CDATA";
        if (!text_stack.empty()) text_stack.back() += s.substr(b, i - 3 - b);
        continue;
      }
      if (starts("<?")) { if (!skip_until("?>")) return "unterminated <?"; continue; }
      if (starts("</")) {
        i += 2;
        std::string n = name();
        skip_ws();
        if (n.empty() || i >= s.size() || s[i] != '>') return "bad end tag at " + std::to_string(i);
        ++i;
        if (stack.empty() || stack.back() != n) return "mismatched </" + n + ">";
        stack.pop_back();
        if (n == "text") { texts.push_back(text_stack.back()); text_stack.pop_back(); }
        if (stack.empty()) root_done = true;
        continue;
      }
      if (s[i] == '<') {
        ++i;
        std::string n = name();
        if (n.empty()) return "bad tag name at " + std::to_string(i);
        std::vector<std::string> attrs;
        for (;;) {
          size_t before = i;
          skip_ws();
          if (starts("/>") || starts(">")) break;
          if (i == before) return "missing space before an attribute of <" + n + ">";
          std::string a = name();
          if (a.empty()) return "bad attribute in <" + n + ">";
          for (const auto& x : attrs)
            if (x == a) return "duplicate attribute " + a;
          attrs.push_back(a);
          skip_ws();
          if (i >= s.size() || s[i] != '=') return "attribute " + a + " without value";
          ++i;
          skip_ws();
          if (i >= s.size() || (s[i] != '"' && s[i] != '\'')) return "unquoted attribute " + a;
          char q = s[i++];
          std::string val;
          if (!chars(val, q) || i >= s.size()) return "bad value of attribute " + a;
          ++i;
        }
        if (starts("/>")) {
          i += 2;
          if (n == "text") texts.push_back("");
          if (stack.empty()) root_done = true;
        } else {
          ++i;
          stack.push_back(n);
          if (n == "text") text_stack.push_back("");
        }
        continue;
      }
      std::string content;
      if (!chars(content, '<')) return "bad character data at " + std::to_string(i);
      for (auto& t : text_stack) t += content;
    }
    if (!stack.empty()) return "unclosed <" + stack.back() + ">";
    if (!root_done) return "no root element";
    return "";
  }
};

std::string read(const std::string& path) { return sdd::io::read_file(path); }

int count(const std::vector<std::string>& v, const std::string& x) {
  int n = 0;
  for (const auto& s : v) n += s == x;
  return n;
}

struct EnvGuard {   // sets an environment variable for one test, restores it after
  std::string name, old;
  bool had;
  EnvGuard(const char* n, const char* value) : name(n) {
    const char* o = std::getenv(n);
    had = o != nullptr;
    if (had) old = o;
    setenv(n, value, 1);
  }
  ~EnvGuard() { had ? setenv(name.c_str(), old.c_str(), 1) : unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("report: the XML checker accepts well-formed and rejects broken documents", "[report]") {
  std::string good = "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"a\" \"b\">\n<svg a='1' b=\"&amp;\">"
                     "<g><text x=\"1\"><tspan>A &lt; B</tspan></text><path d=\"M0\"/></g></svg>\n";
  XmlCheck ok(good);
  CHECK(ok.run() == "");
  REQUIRE(ok.texts.size() == 1);
  CHECK(ok.texts[0] == "A < B");
  for (std::string bad : {"<svg><g></svg>", "<svg a=1></svg>", "<svg>a & b</svg>", "<svg></svg><svg/>",
                          "<svg a=\"1\" a=\"2\"/>", "<svg><text>x</tspan></svg>", "<svg>"}) {
    INFO(bad);
    CHECK(XmlCheck(bad).run() != "");
  }
}

TEST_CASE("report: gnuplot script has a reversed log x axis and one series per input", "[report]") {
  std::string root = fresh_dir("script");
  std::vector<Series> series = read_experiments(make_tree(root));
  std::vector<size_t> plotted;
  std::string data = gnuplot_data(series, plotted);
  CHECK(plotted == std::vector<size_t>{0, 1, 2});
  std::string gp = gnuplot_script(series, plotted, "report_plot.dat");
  CHECK(gp.find("set logscale x 10") != std::string::npos);
  // 100 % on the left: the x range runs from above 100 down to below the sparsest level (51.19 %).
  size_t xr = gp.find("set xrange [");
  REQUIRE(xr != std::string::npos);
  double left = std::atof(gp.c_str() + xr + 12);
  double right = std::atof(gp.c_str() + gp.find(':', xr) + 1);
  CHECK(left > 100.0);
  CHECK(right < 100.0 * 12450 / 24320);
  CHECK(right > 0.0);
  for (const Series& s : series) CHECK(gp.find("title \"" + s.label + "\"") != std::string::npos);
  // The data block of the trunk: level 0 first (100 %), test accuracy in percent.
  std::string first_row = "100.0 " + py_float_repr((100 * value(0, 1, 0, 2) + 100 * value(0, 2, 0, 2)) / 2);
  CHECK(data.find(first_row) != std::string::npos);
}

TEST_CASE("report: report.svg is well-formed XML with a legend entry per series", "[report]") {
  if (find_gnuplot().empty()) {
    WARN("SKIPPED: gnuplot not installed (apt-get install gnuplot-nox)");
    return;
  }
  std::string root = fresh_dir("svg");
  std::vector<std::string> dirs = make_tree(root);
  std::string out = root + "/out";
  std::vector<std::string> args = dirs;
  args.push_back("--out");
  args.push_back(out);
  REQUIRE(report_command(args) == 0);

  for (const char* f : {"report.csv", "report.md", "report.svg", "report.png", "report.gp", "report_plot.dat"})
    CHECK(sdd::io::file_exists(out + "/" + f));
  std::string svg = read(out + "/report.svg");
  XmlCheck xml(svg);
  REQUIRE(xml.run() == "");
  CHECK(svg.find("<svg") != std::string::npos);
  // Each of the three series is in the legend of both panels (test and train accuracy).
  CHECK(count(xml.texts, "lottery_0123abcd") == 2);
  CHECK(count(xml.texts, "lottery_0123abcd retrain_89abcdef") == 2);
  CHECK(count(xml.texts, "train_fedcba98") == 2);
  CHECK(count(xml.texts, "remaining weights (%)") == 2);

  std::string png = read(out + "/report.png");
  REQUIRE(png.size() > 8);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  // No temporaries left behind.
  CHECK_FALSE(sdd::io::file_exists(out + "/.report.svg.tmp"));
  CHECK_FALSE(sdd::io::file_exists(out + "/.report.png.tmp"));
}

TEST_CASE("report: without gnuplot the tables are written and the command still succeeds", "[report]") {
  std::string root = fresh_dir("nognuplot");
  std::vector<std::string> dirs = make_tree(root);
  EnvGuard env("SPARSEDD_GNUPLOT", (root + "/no_such_gnuplot").c_str());
  CHECK(find_gnuplot().empty());
  std::string out = root + "/out";
  REQUIRE(report_command({dirs[0], "--out=" + out}) == 0);
  CHECK(sdd::io::file_exists(out + "/report.csv"));
  CHECK(sdd::io::file_exists(out + "/report.md"));
  CHECK(sdd::io::file_exists(out + "/report.gp"));
  CHECK_FALSE(sdd::io::file_exists(out + "/report.svg"));
  CHECK_FALSE(sdd::io::file_exists(out + "/report.png"));
}

TEST_CASE("report: bare experiment names are looked up under --results_root", "[report]") {
  std::string root = fresh_dir("byname");
  make_tree(root);
  std::string out = root + "/out";
  REQUIRE(report_command({kLotteryName, "--results_root", root, "--out", out, "--no_plot"}) == 0);
  std::string csv = read(out + "/report.csv");
  CHECK(csv.find(kLotteryName) != std::string::npos);
  CHECK_FALSE(sdd::io::file_exists(out + "/report.svg"));
}

TEST_CASE("report: a gnuplot that fails makes the command fail, tables still written", "[report]") {
  if (!sdd::io::file_exists("/bin/false")) {
    WARN("SKIPPED: no /bin/false");
    return;
  }
  std::string root = fresh_dir("badgnuplot");
  std::vector<std::string> dirs = make_tree(root);
  EnvGuard env("SPARSEDD_GNUPLOT", "/bin/false");
  std::string out = root + "/out";
  fs::create_directories(out);
  PlotResult p = write_plots(read_experiments(dirs), out);
  CHECK(p.gnuplot_found);
  CHECK(p.failed);
  CHECK_FALSE(p.svg_written);
  CHECK(p.message.find("/bin/false") != std::string::npos);
  CHECK(p.message.find('\n') == std::string::npos);
  CHECK(report_command({dirs[0], "--out", out}) == 1);
  CHECK(sdd::io::file_exists(out + "/report.csv"));
}

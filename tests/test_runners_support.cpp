// tests/test_runners_support.cpp — helpers of the [runners] tests (see test_runners_support.h).
#include "test_runners_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/io/safetensors.h"
#include "experiments/hparams/flags.h"
#include "experiments/runners/runner.h"

namespace sdd::test_runners {
namespace {

void put_u32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

// Class-dependent stripes plus deterministic noise, so the MLP can learn something.
void write_idx(const std::string& dir, const std::string& prefix, uint32_t n) {
  std::vector<uint8_t> img, lab;
  put_u32(img, 0x803);
  put_u32(img, n);
  put_u32(img, 28);
  put_u32(img, 28);
  put_u32(lab, 0x801);
  put_u32(lab, n);
  img.reserve(img.size() + static_cast<size_t>(n) * 784);
  uint32_t state = 12345;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t y = (i * 7 + 3) % 10;
    lab.push_back(static_cast<uint8_t>(y));
    for (uint32_t p = 0; p < 784; ++p) {
      state = state * 1664525u + 1013904223u;
      const bool stripe = (p / 28) / 3 == y;
      img.push_back(static_cast<uint8_t>(stripe ? 160 + (state >> 27) : (state >> 26)));
    }
  }
  std::ofstream(dir + "/" + prefix + "-images-idx3-ubyte", std::ios::binary).write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
  std::ofstream(dir + "/" + prefix + "-labels-idx1-ubyte", std::ios::binary).write(reinterpret_cast<const char*>(lab.data()), static_cast<std::streamsize>(lab.size()));
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream is(s);
  std::vector<std::string> out;
  for (std::string w; is >> w;) out.push_back(w);
  return out;
}

}  // namespace

const std::string& fake_data_root() {
  static const std::string root = [] {
    const std::string r = fresh_dir("data");
    const std::string d = r + "/fashion_mnist";
    std::filesystem::create_directories(d);
    write_idx(d, "train", 60000);
    write_idx(d, "t10k", 200);
    return r;
  }();
  return root;
}

std::string fresh_dir(const std::string& tag) {
  const std::string d =
      (std::filesystem::temp_directory_path() / ("sdd_runners_" + tag + "_" + std::to_string(getpid()))).string();
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

void run_in_process(const std::string& cmd) {
  exp::ParseOutcome po = exp::parse_command_line(words(cmd));
  if (po.kind != exp::ParseOutcome::Kind::Run) throw std::runtime_error("not a run command: " + cmd);
  std::ostringstream warn, out;
  exp::RunContext ctx = exp::make_run_context(po.experiment.global, warn);
  exp::run_experiment(po.experiment, ctx, out);
}

int run_binary(const std::string& cmd, std::string* out, std::string* err) {
  const std::string ofile = fresh_dir("cli_out") + "/o", efile = ofile + "e";
  std::vector<std::string> args = words(cmd);
  args.insert(args.begin(), SDD_SPARSEDD_EXE);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen(ofile.c_str(), "w", stdout);
    FILE* e = std::freopen(efile.c_str(), "w", stderr);
    (void)o;
    (void)e;
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (out) *out = read_text(ofile);
  if (err) *err = read_text(efile);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::map<std::string, Tensor> load_tensors(const std::string& path) {
  std::map<std::string, Tensor> m;
  for (auto& [n, t] : io::load_safetensors(path).tensors) m[n] = t;
  return m;
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

bool same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  return std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace sdd::test_runners

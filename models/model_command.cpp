// models/model_command.cpp — the `sparsedd model` subcommand (see model_command.h).
#include "models/model_command.h"

#include <algorithm>
#include <iostream>
#include <set>

#include "engine/errors.h"
#include "models/registry.h"

namespace sdd::models {
namespace {

const char* kUsage =
    "usage: sparsedd model NAME [--outputs N]\n"
    "Lists every tensor of the model NAME (state-dict name, shape, elements, prunable / parameter /\n"
    "buffer) and the totals. --outputs N sets the number of classes (default: the family's default:\n"
    "10 for mnist_mlp, cifar_vgg and cifar_resnet, 100 for cifar_pytorch_resnet, 1000 for\n"
    "tinyimagenet_resnet and imagenet_resnet).\n";

int64_t parse_outputs(const std::string& v) {
  int64_t n = 0;
  bool ok = !v.empty() && v.size() <= 9;
  for (char c : v) {
    if (c < '0' || c > '9') ok = false;
    else n = n * 10 + (c - '0');
  }
  SDD_USER_CHECK(ok && n > 0, "--outputs expects a positive integer, got '" << v << "'");
  return n;
}

}  // namespace

std::string with_thousands(int64_t n) {
  const bool neg = n < 0;
  std::string digits = std::to_string(neg ? -n : n);
  std::string out;
  const int len = static_cast<int>(digits.size());
  for (int i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return neg ? "-" + out : out;
}

int model_command(const std::vector<std::string>& args, std::ostream& out) {
  std::string name;
  int64_t outputs = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      out << kUsage;
      return 0;
    } else if (a == "--outputs") {
      SDD_USER_CHECK(i + 1 < args.size(), "--outputs needs a value, e.g. --outputs 10");
      outputs = parse_outputs(args[++i]);
    } else if (a.rfind("--outputs=", 0) == 0) {
      outputs = parse_outputs(a.substr(10));
    } else if (!a.empty() && a[0] == '-') {
      SDD_USER_FAIL("unknown option '" << a << "' for `sparsedd model`; usage: sparsedd model NAME [--outputs N]");
    } else {
      SDD_USER_CHECK(name.empty(), "`sparsedd model` takes one model name, got '" << name << "' and '" << a << "'");
      name = a;
    }
  }
  SDD_USER_CHECK(!name.empty(), "missing model name; usage: sparsedd model NAME [--outputs N], e.g. sparsedd model cifar_pytorch_resnet_18 --outputs 10");

  ModelPtr m = create_model(name, outputs);
  const auto prunable_list = m->prunable_layer_names(PrunableType::Default);
  const std::set<std::string> prunable(prunable_list.begin(), prunable_list.end());
  std::set<std::string> param_names;
  for (const auto& kv : m->named_parameters()) param_names.insert(kv.first);

  const auto state = m->state_dict();
  size_t name_w = 4;
  for (const auto& kv : state) name_w = std::max(name_w, kv.first.size());
  std::vector<std::string> shapes;
  size_t shape_w = 5;
  for (const auto& kv : state) {
    shapes.push_back(shape_str(kv.second.shape()));
    shape_w = std::max(shape_w, shapes.back().size());
  }

  out << "model " << m->name() << " (" << family_id(m->model_name().family, m->model_name().lenet_alias)
      << "), outputs " << m->outputs() << "\n";
  auto pad = [](const std::string& s, size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  out << pad("name", name_w) << "  " << pad("shape", shape_w) << "  " << "    elements  kind\n";
  int64_t total_params = 0, total_prunable = 0, total_buffers = 0;
  int64_t n_prunable = 0;
  for (size_t i = 0; i < state.size(); ++i) {
    const auto& [tname, t] = state[i];
    const int64_t n = t.numel();
    std::string kind;
    if (prunable.count(tname)) {
      kind = "prunable";
      total_prunable += n;
      total_params += n;
      ++n_prunable;
    } else if (param_names.count(tname)) {
      kind = "parameter";
      total_params += n;
    } else {
      kind = "buffer";
      total_buffers += n;
    }
    const std::string count = with_thousands(n);
    out << pad(tname, name_w) << "  " << pad(shapes[i], shape_w) << "  "
        << std::string(count.size() < 12 ? 12 - count.size() : 0, ' ') << count << "  " << kind << "\n";
  }
  out << "prunable tensors: " << n_prunable << "\n";
  out << "prunable weights: " << with_thousands(total_prunable) << "\n";
  out << "total parameters: " << with_thousands(total_params) << "\n";
  out << "buffer elements: " << with_thousands(total_buffers) << "\n";
  return 0;
}

int model_command(const std::vector<std::string>& args) { return model_command(args, std::cout); }

}  // namespace sdd::models

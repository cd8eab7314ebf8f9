// models/names.cpp — parsing and validation of model names (SPEC 3.2, 3.4); see names.h.
#include "models/names.h"

#include "engine/errors.h"

namespace sdd::models {
namespace {

std::vector<std::string> split_underscores(const std::string& s) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == '_') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  return parts;
}

// A non-negative decimal integer of at most 9 digits (so it fits an int); false otherwise.
bool parse_uint(const std::string& s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// ResNet families with a torchvision block plan: <prefix>_D[_W].
bool parse_torchvision_resnet(const std::string& name, const std::string& prefix, ModelFamily family,
                              int default_outputs, ModelName& out, std::string& error) {
  const int prefix_parts = static_cast<int>(split_underscores(prefix).size());
  const auto parts = split_underscores(name);
  const int n = static_cast<int>(parts.size());
  if (n != prefix_parts + 1 && n != prefix_parts + 2) {
    error = "invalid model name '" + name + "': expected " + prefix + "_D or " + prefix +
            "_D_W (D in 18, 34, 50, 101, 152, 200; W a positive width), e.g. " + prefix + "_18";
    return false;
  }
  int depth = 0;
  if (!parse_uint(parts[prefix_parts], depth) ||
      !(depth == 18 || depth == 34 || depth == 50 || depth == 101 || depth == 152 || depth == 200)) {
    error = "invalid model name '" + name + "': depth '" + parts[prefix_parts] +
            "' is not one of 18, 34, 50, 101, 152, 200";
    return false;
  }
  int width = 64;
  if (n == prefix_parts + 2) {
    if (!parse_uint(parts[prefix_parts + 1], width) || width <= 0) {
      error = "invalid model name '" + name + "': width '" + parts[prefix_parts + 1] +
              "' must be a positive integer (default 64)";
      return false;
    }
  }
  out.family = family;
  out.depth = depth;
  out.width = width;
  out.default_outputs = default_outputs;
  return true;
}

}  // namespace

std::string family_id(ModelFamily f, bool lenet_alias) {
  switch (f) {
    case ModelFamily::MnistMlp: return lenet_alias ? "mnist_lenet" : "mnist_mlp";
    case ModelFamily::CifarVgg: return "cifar_vgg";
    case ModelFamily::CifarPytorchResnet: return "cifar_pytorch_resnet";
    case ModelFamily::TinyImagenetResnet: return "tinyimagenet_resnet";
    case ModelFamily::ImagenetResnet: return "imagenet_resnet";
    case ModelFamily::CifarResnet: return "cifar_resnet";
  }
  SDD_FAIL("unknown model family " << static_cast<int>(f));
}

bool parse_model_name(const std::string& name, ModelName& out, std::string& error) {
  out = ModelName{};
  out.name = name;
  error.clear();
  const auto parts = split_underscores(name);

  // (a) mnist_mlp_N1[_N2...] and the OpenLTH alias mnist_lenet_N1[_N2...]
  if (starts_with(name, "mnist_mlp") || starts_with(name, "mnist_lenet")) {
    const bool lenet = starts_with(name, "mnist_lenet");
    const std::string prefix = lenet ? "mnist_lenet" : "mnist_mlp";
    if (parts.size() < 3 || parts[0] != "mnist" || parts[1] != (lenet ? "lenet" : "mlp")) {
      error = "invalid model name '" + name + "': expected " + prefix +
              "_N1[_N2...] with positive hidden sizes, e.g. mnist_mlp_300_100";
      return false;
    }
    for (size_t i = 2; i < parts.size(); ++i) {
      int v = 0;
      if (!parse_uint(parts[i], v) || v <= 0) {
        error = "invalid model name '" + name + "': hidden size '" + parts[i] +
                "' must be a positive integer, e.g. mnist_mlp_300_100";
        return false;
      }
      out.hidden.push_back(v);
    }
    out.family = ModelFamily::MnistMlp;
    out.lenet_alias = lenet;
    out.default_outputs = 10;
    return true;
  }

  // (b) cifar_vgg_{11,13,16,19}
  if (starts_with(name, "cifar_vgg_")) {
    int depth = 0;
    if (parts.size() != 3 || !parse_uint(parts[2], depth) ||
        !(depth == 11 || depth == 13 || depth == 16 || depth == 19)) {
      error = "invalid model name '" + name + "': expected cifar_vgg_D with D in 11, 13, 16, 19";
      return false;
    }
    out.family = ModelFamily::CifarVgg;
    out.depth = depth;
    out.default_outputs = 10;
    return true;
  }

  // (c), (d), (e) torchvision-style ResNets
  if (starts_with(name, "cifar_pytorch_resnet_"))
    return parse_torchvision_resnet(name, "cifar_pytorch_resnet", ModelFamily::CifarPytorchResnet, 100,
                                    out, error);
  if (starts_with(name, "tinyimagenet_resnet_"))
    return parse_torchvision_resnet(name, "tinyimagenet_resnet", ModelFamily::TinyImagenetResnet, 1000,
                                    out, error);
  if (starts_with(name, "imagenet_resnet_"))
    return parse_torchvision_resnet(name, "imagenet_resnet", ModelFamily::ImagenetResnet, 1000, out,
                                    error);

  // OpenLTH cifar_resnet_D[_W]
  if (starts_with(name, "cifar_resnet_")) {
    int depth = 0;
    int width = 16;
    if (parts.size() != 3 && parts.size() != 4) {
      error = "invalid model name '" + name + "': expected cifar_resnet_D or cifar_resnet_D_W, e.g. cifar_resnet_20";
      return false;
    }
    if (!parse_uint(parts[2], depth) || depth <= 2 || (depth - 2) % 6 != 0) {
      error = "invalid model name '" + name + "': depth '" + parts[2] +
              "' must be an integer D > 2 with D-2 divisible by 6 (20, 32, 44, 56, 110, ...)";
      return false;
    }
    if (parts.size() == 4 && (!parse_uint(parts[3], width) || width <= 0)) {
      error = "invalid model name '" + name + "': width '" + parts[3] +
              "' must be a positive integer (default 16)";
      return false;
    }
    out.family = ModelFamily::CifarResnet;
    out.depth = depth;
    out.width = width;
    out.default_outputs = 10;
    return true;
  }

  error = "No such model: '" + name +
          "'; use mnist_mlp_N1[_N2...], cifar_vgg_{11,13,16,19}, cifar_pytorch_resnet_D[_W], "
          "tinyimagenet_resnet_D[_W], imagenet_resnet_D[_W] or cifar_resnet_D[_W]";
  return false;
}

ModelName parse_model_name_or_throw(const std::string& name) {
  ModelName out;
  std::string error;
  if (!parse_model_name(name, out, error)) throw UserError(error);
  return out;
}

std::string model_family(const std::string& name) {
  const ModelName m = parse_model_name_or_throw(name);
  return family_id(m.family, m.lenet_alias);
}

bool is_valid_model_name(const std::string& name) {
  ModelName out;
  std::string error;
  return parse_model_name(name, out, error);
}

}  // namespace sdd::models

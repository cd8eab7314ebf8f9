// models/registry.cpp — building, initialising, freezing, saving and loading models (SPEC 3.1, 2.2).
#include "models/registry.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "engine/errors.h"
#include "engine/nn/init.h"
#include "engine/nn/layers.h"
#include "models/cifar_resnet.h"
#include "models/mlp.h"
#include "models/torchvision_resnet.h"
#include "models/vgg.h"

namespace sdd::models {
namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
  return s;
}

void check_initializer_names(const std::string& init, const std::string& bn_init) {
  const auto& w = nn::init::weight_initializer_names();
  SDD_USER_CHECK(std::find(w.begin(), w.end(), init) != w.end(),
                 "unknown model_init '" << init << "'; use one of: " << join(w));
  const auto& b = nn::init::bn_initializer_names();
  SDD_USER_CHECK(std::find(b.begin(), b.end(), bn_init) != b.end(),
                 "unknown batchnorm_init '" << bn_init << "'; use one of: " << join(b));
}

}  // namespace

ModelPtr create_model(const std::string& name, int64_t outputs) {
  const ModelName parsed = parse_model_name_or_throw(name);
  const int64_t n = outputs > 0 ? outputs : parsed.default_outputs;
  switch (parsed.family) {
    case ModelFamily::MnistMlp: return std::make_shared<Mlp>(parsed, n);
    case ModelFamily::CifarVgg: return std::make_shared<Vgg>(parsed, n);
    case ModelFamily::CifarPytorchResnet:
    case ModelFamily::TinyImagenetResnet:
    case ModelFamily::ImagenetResnet: return std::make_shared<TorchvisionResnetModel>(parsed, n);
    case ModelFamily::CifarResnet: return std::make_shared<CifarResnet>(parsed, n);
  }
  SDD_FAIL("unhandled model family for " << name);
}

ModelPtr get_model(const std::string& name, int64_t outputs, const std::string& init,
                   const std::string& bn_init) {
  parse_model_name_or_throw(name);   // a bad name is reported before a bad initializer
  check_initializer_names(init, bn_init);
  ModelPtr m = create_model(name, outputs);
  nn::init::apply_initializers(*m, init, bn_init);
  return m;
}

void apply_freezing(Model& m, bool batchnorm_frozen, bool output_frozen, bool others_frozen,
                    const std::string& others_exceptions) {
  std::set<std::string> bn_names;
  for (const auto& [prefix, mod] : m.named_modules()) {
    if (dynamic_cast<nn::BatchNorm2d*>(mod) != nullptr) {
      const std::string dot = prefix.empty() ? "" : prefix + ".";
      bn_names.insert(dot + "weight");
      bn_names.insert(dot + "bias");
    }
  }
  std::set<std::string> exceptions;
  if (!others_exceptions.empty()) {
    std::set<std::string> state_names;
    for (const auto& kv : m.state_dict()) state_names.insert(kv.first);
    std::stringstream ss(others_exceptions);
    std::string item;
    while (std::getline(ss, item, ',')) {
      SDD_USER_CHECK(state_names.count(item) != 0,
                     "Invalid name to except: '" << item << "' is not a tensor of " << m.name()
                                                 << "; run `sparsedd model " << m.name()
                                                 << "` to list the tensor names");
      exceptions.insert(item);
    }
  }
  const auto outs = m.output_layer_names();
  const std::set<std::string> out_names(outs.begin(), outs.end());
  for (auto& [name, p] : m.named_parameters()) {
    const bool is_bn = bn_names.count(name) != 0;
    const bool is_out = out_names.count(name) != 0;
    if (is_bn) {
      if (batchnorm_frozen) p.set_requires_grad(false);
    } else if (is_out) {
      if (output_frozen) p.set_requires_grad(false);
    } else if (others_frozen && exceptions.count(name) == 0) {
      p.set_requires_grad(false);
    }
  }
}

io::TensorList model_state(const Model& m) { return m.state_dict(); }

void save_model(const Model& m, const std::string& path, const io::Metadata& metadata) {
  io::save_safetensors(path, model_state(m), metadata);
}

void load_model_state(Model& m, const io::TensorList& state, const std::string& source) {
  try {
    m.load_state(state, /*strict=*/true);
  } catch (const UserError& e) {
    throw UserError("cannot load " + source + " into " + m.name() + ": " + e.what());
  }
}

void load_model_weights(Model& m, const std::string& path) {
  const io::SafetensorsContents contents = io::load_safetensors(path);
  load_model_state(m, contents.tensors, path);
}

ModelPtr load_model(const std::string& path, const std::string& name, int64_t outputs,
                    const std::string& init, const std::string& bn_init) {
  ModelPtr m = get_model(name, outputs, init, bn_init);
  load_model_weights(*m, path);
  return m;
}

}  // namespace sdd::models

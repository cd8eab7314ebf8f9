// models/names.h — parsing and validation of model names (SPEC 3.2, 3.4).
//
// Families and their names (W = width, default per family):
//   mnist_mlp            mnist_mlp_N1[_N2...]           (OpenLTH alias: mnist_lenet_N1[_N2...])
//   cifar_vgg            cifar_vgg_{11,13,16,19}
//   cifar_pytorch_resnet cifar_pytorch_resnet_D[_W]     D in {18,34,50,101,152,200}, W default 64
//   tinyimagenet_resnet  tinyimagenet_resnet_D[_W]      as above
//   imagenet_resnet      imagenet_resnet_D[_W]          as above
//   cifar_resnet         cifar_resnet_D[_W]             OpenLTH ResNet-20 family: D>2, (D-2)%6==0, W default 16
// parse_model_name() never throws for a bad name: it fills `error` instead. model_family() throws a
// UserError with that reason.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdd::models {

enum class ModelFamily {
  MnistMlp,             // mnist_mlp_* (and the OpenLTH alias mnist_lenet_*)
  CifarVgg,             // cifar_vgg_D
  CifarPytorchResnet,   // cifar_pytorch_resnet_D[_W]
  TinyImagenetResnet,   // tinyimagenet_resnet_D[_W]
  ImagenetResnet,       // imagenet_resnet_D[_W]
  CifarResnet,          // OpenLTH cifar_resnet_D[_W]
};

struct ModelName {
  std::string name;               // the name as given
  ModelFamily family = ModelFamily::MnistMlp;
  bool lenet_alias = false;       // mnist_lenet_* spelling (OpenLTH)
  int depth = 0;                  // VGG / ResNet depth (0 for the MLP)
  int width = 0;                  // ResNet width W (0 for MLP and VGG)
  std::vector<int> hidden;        // MLP hidden sizes N1, N2, ... (empty otherwise)
  int default_outputs = 10;       // outputs when the dataset gives none
};

// The family id as a string: "mnist_mlp", "mnist_lenet" (the alias spelling, so OpenLTH presets can
// be told apart), "cifar_vgg", "cifar_pytorch_resnet", "tinyimagenet_resnet", "imagenet_resnet",
// "cifar_resnet".
std::string family_id(ModelFamily f, bool lenet_alias = false);

// Parses `name`. Returns true and fills `out` when valid; otherwise returns false and puts a one-line
// reason (what is wrong and what to use instead) into `error`.
bool parse_model_name(const std::string& name, ModelName& out, std::string& error);

// Parses or throws UserError with the reason.
ModelName parse_model_name_or_throw(const std::string& name);

// The family id of a valid name (see family_id); throws UserError with the reason otherwise.
std::string model_family(const std::string& name);

// True when the name is valid.
bool is_valid_model_name(const std::string& name);

}  // namespace sdd::models

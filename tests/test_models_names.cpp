// tests/test_models_names.cpp — model-name parsing and validation (models/names.h, SPEC 3.2, 3.4).
#include <catch2/catch.hpp>

#include "engine/errors.h"
#include "models/names.h"

using namespace sdd::models;

TEST_CASE("model names: every family parses with its fields", "[models]") {
  ModelName m;
  std::string err;
  REQUIRE(parse_model_name("mnist_mlp_300_100", m, err));
  CHECK(m.family == ModelFamily::MnistMlp);
  CHECK(m.hidden == std::vector<int>{300, 100});
  CHECK(m.default_outputs == 10);
  CHECK_FALSE(m.lenet_alias);

  REQUIRE(parse_model_name("mnist_lenet_50", m, err));
  CHECK(m.family == ModelFamily::MnistMlp);
  CHECK(m.lenet_alias);
  CHECK(m.hidden == std::vector<int>{50});

  REQUIRE(parse_model_name("cifar_vgg_16", m, err));
  CHECK(m.family == ModelFamily::CifarVgg);
  CHECK(m.depth == 16);

  REQUIRE(parse_model_name("cifar_pytorch_resnet_18", m, err));
  CHECK(m.family == ModelFamily::CifarPytorchResnet);
  CHECK(m.depth == 18);
  CHECK(m.width == 64);
  CHECK(m.default_outputs == 100);

  REQUIRE(parse_model_name("cifar_pytorch_resnet_50_32", m, err));
  CHECK(m.depth == 50);
  CHECK(m.width == 32);

  REQUIRE(parse_model_name("tinyimagenet_resnet_101", m, err));
  CHECK(m.family == ModelFamily::TinyImagenetResnet);
  CHECK(m.default_outputs == 1000);

  REQUIRE(parse_model_name("imagenet_resnet_200_16", m, err));
  CHECK(m.family == ModelFamily::ImagenetResnet);
  CHECK(m.depth == 200);
  CHECK(m.width == 16);

  REQUIRE(parse_model_name("cifar_resnet_20", m, err));
  CHECK(m.family == ModelFamily::CifarResnet);
  CHECK(m.depth == 20);
  CHECK(m.width == 16);
  REQUIRE(parse_model_name("cifar_resnet_14_128", m, err));
  CHECK(m.width == 128);
}

TEST_CASE("model names: model_family ids", "[models]") {
  CHECK(model_family("mnist_mlp_300_100") == "mnist_mlp");
  CHECK(model_family("mnist_lenet_300_100") == "mnist_lenet");
  CHECK(model_family("cifar_vgg_11") == "cifar_vgg");
  CHECK(model_family("cifar_pytorch_resnet_152") == "cifar_pytorch_resnet");
  CHECK(model_family("tinyimagenet_resnet_34_8") == "tinyimagenet_resnet");
  CHECK(model_family("imagenet_resnet_50") == "imagenet_resnet");
  CHECK(model_family("cifar_resnet_110") == "cifar_resnet");
}

TEST_CASE("model names: invalid names are rejected with a reason", "[models]") {
  const char* bad[] = {
      "mnist_mlp",          "mnist_mlp_",          "mnist_mlp_0",          "mnist_mlp_300_x",
      "mnist_mlp_-3",       "mnist_mlpx_300",      "cifar_vgg_15",         "cifar_vgg_16_2",
      "cifar_vgg_",         "cifar_pytorch_resnet_269", "cifar_pytorch_resnet_18_0",
      "cifar_pytorch_resnet_18_64_1", "cifar_pytorch_resnet_", "imagenet_resnet_17",
      "tinyimagenet_resnet_18_w", "cifar_resnet_21",   "cifar_resnet_2",       "cifar_resnet_20_0",
      "cifar_resnet_20_16_1", "resnet_18",         "",                     "CIFAR_VGG_16",
  };
  for (const char* name : bad) {
    INFO("name: '" << name << "'");
    ModelName m;
    std::string err;
    CHECK_FALSE(parse_model_name(name, m, err));
    CHECK_FALSE(err.empty());
    CHECK(err.find('\n') == std::string::npos);
    CHECK_FALSE(is_valid_model_name(name));
    CHECK_THROWS_AS(model_family(name), sdd::UserError);
  }
  std::string err;
  ModelName m;
  parse_model_name("cifar_vgg_15", m, err);
  CHECK(err.find("11, 13, 16, 19") != std::string::npos);
  parse_model_name("cifar_resnet_21", m, err);
  CHECK(err.find("divisible by 6") != std::string::npos);
  parse_model_name("alexnet", m, err);
  CHECK(err.find("No such model") != std::string::npos);
}

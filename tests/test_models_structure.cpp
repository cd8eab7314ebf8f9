// tests/test_models_structure.cpp — model structures: the golden parameter counts of SPEC 3.5,
// tensor names per family, prunable lists, output-layer names, freezing, the `model` command.
#include <catch2/catch.hpp>

#include <set>
#include <sstream>

#include "engine/errors.h"
#include "engine/nn/layers.h"
#include "models/model_command.h"
#include "models/registry.h"

using namespace sdd;
using namespace sdd::models;

namespace {

struct Counts {
  int64_t prunable_tensors = 0;
  int64_t prunable_weights = 0;
  int64_t total = 0;
};

Counts counts_of(const std::string& name, int64_t outputs) {
  ModelPtr m = create_model(name, outputs);
  Counts c;
  c.prunable_tensors = static_cast<int64_t>(m->prunable_layer_names().size());
  c.prunable_weights = m->num_prunable();
  c.total = m->num_parameters();
  return c;
}

std::set<std::string> state_names(Model& m) {
  std::set<std::string> s;
  for (const auto& kv : m.state_dict()) s.insert(kv.first);
  return s;
}

}  // namespace

TEST_CASE("models: golden parameter counts (SPEC 3.5)", "[models]") {
  {
    const Counts c = counts_of("cifar_pytorch_resnet_18", 10);
    CHECK(c.prunable_tensors == 21);
    CHECK(c.prunable_weights == 11164352);
    CHECK(c.total == 11173962);
  }
  {
    const Counts c = counts_of("cifar_pytorch_resnet_18", 100);
    CHECK(c.prunable_tensors == 21);
    CHECK(c.prunable_weights == 11210432);
    CHECK(c.total == 11220132);
  }
  {
    const Counts c = counts_of("cifar_pytorch_resnet_34", 100);
    CHECK(c.prunable_tensors == 37);
    CHECK(c.prunable_weights == 21311168);
  }
  {
    const Counts c = counts_of("cifar_pytorch_resnet_50", 100);
    CHECK(c.prunable_tensors == 54);
    CHECK(c.prunable_weights == 23652032);
  }
  {
    const Counts c = counts_of("cifar_vgg_16", 10);
    CHECK(c.prunable_tensors == 14);
    CHECK(c.prunable_weights == 14715584);
    CHECK(c.prunable_weights - 512 * 10 == 14710464);
    CHECK(c.total == 14728266);
  }
  CHECK(counts_of("cifar_vgg_11", 10).total == 9231114);
  CHECK(counts_of("cifar_vgg_13", 10).total == 9416010);
  CHECK(counts_of("cifar_vgg_19", 10).total == 20040522);
  {
    const Counts c = counts_of("mnist_mlp_300_100", 10);
    CHECK(c.prunable_tensors == 3);
    CHECK(c.prunable_weights == 266200);
    CHECK(c.total == 266610);
  }
  {
    const Counts c = counts_of("cifar_resnet_20", 10);
    CHECK(c.prunable_weights == 270896);
    CHECK(c.total == 272474);
  }
  CHECK(counts_of("cifar_resnet_110", 10).total == 1730714);
  CHECK(counts_of("cifar_resnet_14_128", 10).total == 11093130);
}

TEST_CASE("models: golden count of tinyimagenet_resnet_101 (SPEC 3.5)", "[models]") {
  const Counts c = counts_of("tinyimagenet_resnet_101", 200);
  CHECK(c.prunable_tensors == 105);
  CHECK(c.prunable_weights == 42796736);
}

TEST_CASE("models: ResNet-152 and ResNet-200 construct with the expected tensor counts", "[models][slow]") {
  // Bottleneck: 3 convs per block, 4 projection shortcuts, the stem conv and fc.
  {
    ModelPtr m = create_model("cifar_pytorch_resnet_152", 100);
    CHECK(m->prunable_layer_names().size() == 3u * (3 + 8 + 36 + 3) + 4 + 2);
    CHECK(m->parameter("model.layer3.35.conv3.weight").shape() == Shape{1024, 256, 1, 1});
  }
  {
    ModelPtr m = create_model("imagenet_resnet_200", 1000);
    CHECK(m->prunable_layer_names().size() == 3u * (3 + 24 + 36 + 3) + 4 + 2);
    CHECK(m->parameter("model.conv1.weight").shape() == Shape{64, 3, 7, 7});
    CHECK(m->parameter("model.fc.weight").shape() == Shape{1000, 2048});
  }
}

TEST_CASE("models: tensor names and shapes per family", "[models]") {
  SECTION("mnist_mlp") {
    ModelPtr m = create_model("mnist_mlp_300_100", 10);
    const std::vector<std::string> expected = {"fc_layers.0.weight", "fc_layers.0.bias", "fc_layers.1.weight",
                                               "fc_layers.1.bias",   "fc.weight",        "fc.bias"};
    std::vector<std::string> got;
    for (const auto& kv : m->state_dict()) got.push_back(kv.first);
    CHECK(got == expected);
    CHECK(m->parameter("fc_layers.0.weight").shape() == Shape{300, 784});
    CHECK(m->prunable_layer_names() == std::vector<std::string>{"fc_layers.0.weight", "fc_layers.1.weight", "fc.weight"});
    CHECK(m->output_layer_names() == std::vector<std::string>{"fc.weight", "fc.bias"});
    CHECK(m->prunable_layer_names(PrunableType::BN).empty());
  }
  SECTION("cifar_vgg_16 conv indices count Sequential positions including pools") {
    ModelPtr m = create_model("cifar_vgg_16", 10);
    const auto names = m->prunable_layer_names();
    const std::vector<int> idx = {0, 1, 3, 4, 6, 7, 8, 10, 11, 12, 14, 15, 16};
    REQUIRE(names.size() == idx.size() + 1);
    for (size_t i = 0; i < idx.size(); ++i) CHECK(names[i] == "layers." + std::to_string(idx[i]) + ".conv.weight");
    CHECK(names.back() == "fc.weight");
    const auto s = state_names(*m);
    CHECK(s.count("layers.0.conv.bias"));
    CHECK(s.count("layers.16.bn.running_var"));
    CHECK(s.count("layers.16.bn.num_batches_tracked"));
    CHECK_FALSE(s.count("layers.2.conv.weight"));
    CHECK(m->parameter("layers.16.conv.weight").shape() == Shape{512, 512, 3, 3});
    CHECK(m->prunable_layer_names(PrunableType::BN).size() == 26);
  }
  SECTION("cifar_pytorch_resnet_18") {
    ModelPtr m = create_model("cifar_pytorch_resnet_18", 10);
    const auto names = m->prunable_layer_names();
    CHECK(names.front() == "model.conv1.weight");
    CHECK(names.back() == "model.fc.weight");
    CHECK(m->parameter("model.conv1.weight").shape() == Shape{64, 3, 3, 3});
    CHECK(m->parameter("model.layer2.0.downsample.0.weight").shape() == Shape{128, 64, 1, 1});
    CHECK(m->parameter("model.layer4.1.conv2.weight").shape() == Shape{512, 512, 3, 3});
    const auto s = state_names(*m);
    CHECK(s.count("model.bn1.running_mean"));
    CHECK(s.count("model.layer2.0.downsample.1.num_batches_tracked"));
    CHECK_FALSE(s.count("model.layer1.0.downsample.0.weight"));   // identity shortcut
    CHECK_FALSE(s.count("model.layer2.1.downsample.0.weight"));
    CHECK(m->output_layer_names() == std::vector<std::string>{"model.fc.weight", "model.fc.bias"});
    // registration order: conv1, bn1 of block 0 before its downsample
    const auto state = m->state_dict();
    CHECK(state[0].first == "model.conv1.weight");
    CHECK(state[1].first == "model.bn1.weight");
    CHECK(state[2].first == "model.bn1.bias");
    CHECK(state[3].first == "model.bn1.running_mean");
    CHECK(state[4].first == "model.bn1.running_var");
    CHECK(state[5].first == "model.bn1.num_batches_tracked");
    CHECK(state[6].first == "model.layer1.0.conv1.weight");
  }
  SECTION("cifar_pytorch_resnet_50 bottleneck v1.5 and width") {
    ModelPtr m = create_model("cifar_pytorch_resnet_50_32", 100);
    CHECK(m->parameter("model.conv1.weight").shape() == Shape{32, 3, 3, 3});
    CHECK(m->parameter("model.layer1.0.downsample.0.weight").shape() == Shape{128, 32, 1, 1});
    CHECK(m->parameter("model.layer2.0.conv2.weight").shape() == Shape{64, 64, 3, 3});
    CHECK(m->parameter("model.layer4.2.conv3.weight").shape() == Shape{1024, 256, 1, 1});
    CHECK(m->parameter("model.fc.weight").shape() == Shape{100, 1024});
  }
  SECTION("imagenet_resnet_18 stem") {
    ModelPtr m = create_model("imagenet_resnet_18", 0);
    CHECK(m->outputs() == 1000);
    CHECK(m->parameter("model.conv1.weight").shape() == Shape{64, 3, 7, 7});
  }
  SECTION("OpenLTH cifar_resnet_20") {
    ModelPtr m = create_model("cifar_resnet_20", 0);
    CHECK(m->outputs() == 10);
    const auto s = state_names(*m);
    CHECK(s.count("conv.weight"));
    CHECK(s.count("bn.running_var"));
    CHECK(s.count("blocks.3.shortcut.0.weight"));
    CHECK(s.count("blocks.6.shortcut.1.weight"));
    CHECK_FALSE(s.count("blocks.0.shortcut.0.weight"));
    CHECK_FALSE(s.count("blocks.4.shortcut.0.weight"));
    CHECK(m->parameter("blocks.8.conv2.weight").shape() == Shape{64, 64, 3, 3});
    CHECK(m->parameter("fc.weight").shape() == Shape{10, 64});
    CHECK(m->prunable_layer_names().size() == 1u + 18 + 2 + 1);
  }
}

TEST_CASE("models: default outputs per family", "[models]") {
  CHECK(create_model("mnist_mlp_20", 0)->outputs() == 10);
  CHECK(create_model("cifar_pytorch_resnet_18_8", 0)->outputs() == 100);
  CHECK(create_model("tinyimagenet_resnet_18_8", 0)->outputs() == 1000);
  CHECK(create_model("cifar_vgg_11", 0)->outputs() == 10);
  CHECK(create_model("cifar_vgg_11", 7)->parameter("fc.weight").shape() == Shape{7, 512});
}

TEST_CASE("models: freezing (SPEC 2.2)", "[models]") {
  ModelPtr m = create_model("cifar_resnet_20", 10);
  apply_freezing(*m, /*bn*/ true, /*output*/ false, /*others*/ false);
  CHECK_FALSE(m->parameter("bn.weight").requires_grad());
  CHECK_FALSE(m->parameter("blocks.0.bn2.bias").requires_grad());
  CHECK(m->parameter("conv.weight").requires_grad());
  CHECK(m->parameter("fc.weight").requires_grad());

  ModelPtr o = create_model("cifar_resnet_20", 10);
  apply_freezing(*o, false, true, false);
  CHECK_FALSE(o->parameter("fc.weight").requires_grad());
  CHECK_FALSE(o->parameter("fc.bias").requires_grad());
  CHECK(o->parameter("conv.weight").requires_grad());

  ModelPtr x = create_model("cifar_resnet_20", 10);
  apply_freezing(*x, false, false, true, "conv.weight,blocks.1.conv1.weight");
  CHECK(x->parameter("conv.weight").requires_grad());
  CHECK(x->parameter("blocks.1.conv1.weight").requires_grad());
  CHECK_FALSE(x->parameter("blocks.1.conv2.weight").requires_grad());
  CHECK(x->parameter("bn.weight").requires_grad());
  CHECK(x->parameter("fc.weight").requires_grad());

  ModelPtr y = create_model("cifar_resnet_20", 10);
  CHECK_THROWS_AS(apply_freezing(*y, false, false, true, "conv.weigth"), UserError);
}

TEST_CASE("models: invalid names and initializers are user errors", "[models]") {
  CHECK_THROWS_AS(create_model("cifar_vgg_15", 10), UserError);
  CHECK_THROWS_AS(get_model("mnist_mlp_10", 10, "xavier", "uniform"), UserError);
  CHECK_THROWS_AS(get_model("mnist_mlp_10", 10, "kaiming_normal", "ones"), UserError);
}

TEST_CASE("models: the model command lists tensors and totals", "[models]") {
  CHECK(with_thousands(0) == "0");
  CHECK(with_thousands(999) == "999");
  CHECK(with_thousands(1000) == "1,000");
  CHECK(with_thousands(11164352) == "11,164,352");
  std::ostringstream os;
  CHECK(model_command({"cifar_pytorch_resnet_18", "--outputs", "10"}, os) == 0);
  const std::string s = os.str();
  CHECK(s.find("prunable weights: 11,164,352") != std::string::npos);
  CHECK(s.find("total parameters: 11,173,962") != std::string::npos);
  CHECK(s.find("prunable tensors: 21") != std::string::npos);
  CHECK(s.find("model.layer2.0.downsample.0.weight") != std::string::npos);
  CHECK(s.find("num_batches_tracked") != std::string::npos);
  std::ostringstream os2;
  CHECK(model_command({"mnist_mlp_300_100", "--outputs=10"}, os2) == 0);
  CHECK(os2.str().find("total parameters: 266,610") != std::string::npos);
  std::ostringstream os3;
  CHECK_THROWS_AS(model_command({}, os3), UserError);
  CHECK_THROWS_AS(model_command({"cifar_vgg_16", "--outputs", "x"}, os3), UserError);
  CHECK_THROWS_AS(model_command({"cifar_vgg_16", "--bogus"}, os3), UserError);
  CHECK_THROWS_AS(model_command({"nope_1"}, os3), UserError);
}

// tests/test_hparams_basics.cpp — step strings, Python float repr, presets.
#include <catch2/catch.hpp>

#include "engine/errors.h"
#include "experiments/pyfmt.h"
#include "experiments/step.h"
#include "models/presets.h"

using namespace sdd::exp;

TEST_CASE("hparams: step strings parse with exact round trip", "[hparams]") {
  CHECK(Step::from_str("160ep", 391).iteration() == 62560);
  CHECK(Step::from_str("80ep", 391).iteration() == 31280);
  const Step s = Step::from_str("1000it", 391);
  CHECK(s.ep() == 2);
  CHECK(s.it() == 218);
  CHECK(s.ep_it() == "ep2_it218");
  CHECK(Step::from_str("1ep100it", 391).iteration() == 491);
  CHECK(Step::from_str("0ep500it", 391).iteration() == 500);  // it may exceed ipe
  CHECK(Step::from_str("1000it", 196).ep_it() == "ep5_it20");
  // Combined negatives are accepted when the total is >= 0 (as the original).
  CHECK(Step::from_str("-1ep500it", 391).iteration() == 109);
  CHECK(Step::from_str("1ep-5it", 391).iteration() == 386);
  for (const char* bad : {"01ep", "ep", "it", "0", "20it50ep", "", "-1ep", "-5it", "-0ep5it", "0ep-0it", "+5it", "5 it",
                          "1ep100itx", "1.5ep", "-1ep5it"})
    CHECK_THROWS_AS(Step::from_str(bad, 391), sdd::UserError);
  CHECK(Step::str_is_zero("0ep"));
  CHECK(Step::str_is_zero("0it"));
  CHECK(Step::str_is_zero("0ep0it"));
  CHECK_FALSE(Step::str_is_zero("00ep"));
  CHECK_FALSE(Step::str_is_zero("1it"));
  CHECK(Step::from_str("2ep7it", 10).str() == "2ep7it");
  CHECK_THROWS_AS(Step(5, 391) < Step(5, 469), sdd::UserError);
  CHECK(Step(5, 391) < Step(6, 391));
}

TEST_CASE("hparams: iterations per epoch per dataset", "[hparams]") {
  CHECK(iterations_per_epoch("cifar10", 128) == 391);
  CHECK(iterations_per_epoch("cifar100", 128) == 391);
  CHECK(iterations_per_epoch("mnist", 128) == 469);
  CHECK(iterations_per_epoch("fashion_mnist", 128) == 469);
  CHECK(iterations_per_epoch("tiny_imagenet", 512) == 196);
  CHECK(iterations_per_epoch("tiny_imagenet", 256) == 391);
  CHECK(iterations_per_epoch("imagenet", 1024) == 1252);
  CHECK(iterations_per_epoch("cifar10", 128, 0.5) == 196);
  CHECK_THROWS_AS(iterations_per_epoch("svhn", 128), sdd::UserError);
}

TEST_CASE("hparams: Python float repr", "[hparams]") {
  CHECK(py_float_repr(0.1) == "0.1");
  CHECK(py_float_repr(0.0001) == "0.0001");
  CHECK(py_float_repr(1e-4) == "0.0001");
  CHECK(py_float_repr(1e-05) == "1e-05");
  CHECK(py_float_repr(160.0) == "160.0");
  CHECK(py_float_repr(1e16) == "1e+16");
  CHECK(py_float_repr(1.5e16) == "1.5e+16");
  CHECK(py_float_repr(123456789012345.0) == "123456789012345.0");
  CHECK(py_float_repr(0.2) == "0.2");
  CHECK(py_float_repr(0.0) == "0.0");
  CHECK(py_float_repr(-0.0) == "-0.0");
  CHECK(py_float_repr(-2.5) == "-2.5");
  CHECK(py_float_repr(1.0 - 0.8) == "0.19999999999999996");
  CHECK(py_float_repr(1.5e-7) == "1.5e-07");
  CHECK(py_float_repr(1e100) == "1e+100");
  CHECK(py_float_repr(0.001) == "0.001");
  CHECK(py_float_repr(12.5) == "12.5");
}

TEST_CASE("hparams: presets per family", "[hparams]") {
  using sdd::models::get_preset;
  const auto r = get_preset("cifar_pytorch_resnet_34");
  CHECK(r.model_name == "cifar_pytorch_resnet_34");
  CHECK(r.dataset_name == "cifar100");
  CHECK(!r.pruning_layers_to_ignore);
  const auto v = get_preset("cifar_vgg_16");
  CHECK(v.dataset_name == "cifar10");
  CHECK(v.pruning_layers_to_ignore == std::optional<std::string>("fc.weight"));
  const auto m = get_preset("mnist_mlp_300_100");
  CHECK(m.training_steps == "160ep");
  CHECK(!m.momentum);
  CHECK(m.pruning_layers_to_ignore == std::optional<std::string>("fc.weight"));
  const auto t = get_preset("tinyimagenet_resnet_101");
  CHECK(t.batch_size == 256);
  CHECK(t.warmup_steps == std::optional<std::string>("5ep"));
  CHECK(t.finetune_lr == 1e-4);
  CHECK(get_preset("imagenet_resnet_50").batch_size == 1024);
  CHECK_THROWS_AS(get_preset("cifar_resnet_20"), sdd::UserError);
  CHECK_THROWS_AS(get_preset("mnist_lenet_300_100"), sdd::UserError);
  CHECK_THROWS_AS(get_preset("resnet_18"), sdd::UserError);
}

// tests/test_train_device.cpp — [train] the GPU-resident training path run on the CPU, where it is
// device-generic: PhaseData's device batches (the uint8 split uploaded once, ops::crop_flip_batch per
// batch) bit-identical to exp::make_batch for a non-augmenting (Fashion-MNIST format) and an
// augmenting (CIFAR-10 format) dataset; the ops wrappers' validation; pruning/device_threshold equal
// to pruning/threshold.cpp with ties and ignored tensors, global and layer scope. [cuda] runs the
// same data path and threshold on the GPU against the CPU (skipped without a device).
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/errors.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "experiments/data/augment.h"
#include "pruning/device_threshold.h"
#include "pruning/strategies.h"
#include "pruning/threshold.h"
#include "test_train_fixture.h"

using namespace sdd;
using namespace sdd::test_train;

namespace {

// A tiny CIFAR-10 binary tree (5 training files of 7 records, a test file of 9) under a temp root.
struct CifarRoot {
  std::string path;
  CifarRoot() {
    path = std::filesystem::temp_directory_path().string() + "/sdd_train_dev_cifar_" + std::to_string(::getpid());
    const std::string dir = path + "/cifar10/cifar-10-batches-bin";
    std::filesystem::create_directories(dir);
    uint32_t s = 4242u;
    auto next = [&]() { s = s * 1664525u + 1013904223u; return s >> 8; };
    auto write = [&](const std::string& f, int records) {
      std::ofstream o(dir + "/" + f, std::ios::binary);
      for (int r = 0; r < records; ++r) {
        std::vector<char> rec(3073);
        rec[0] = static_cast<char>(next() % 10);
        for (size_t i = 1; i < rec.size(); ++i) rec[i] = static_cast<char>(next() & 0xff);
        o.write(rec.data(), static_cast<std::streamsize>(rec.size()));
      }
    };
    for (int b = 1; b <= 5; ++b) write("data_batch_" + std::to_string(b) + ".bin", 7);
    write("test_batch.bin", 9);
  }
  ~CifarRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
const std::string& cifar_root() {
  static const CifarRoot root;
  return root.path;
}

exp::Hparams cifar_bundle(int64_t batch_size, bool augment) {
  exp::Hparams d = exp::dataset_hparams();
  d.set("dataset_name", exp::Value::str("cifar10"));
  d.set("batch_size", exp::Value::integer(batch_size));
  d.set("do_not_augment", exp::Value::boolean(!augment));
  return d;
}

template <class T>
void check_equal(const Tensor& a, const Tensor& b, const char* what) {
  INFO(what);
  REQUIRE(a.defined() == b.defined());
  if (!a.defined()) return;
  REQUIRE(a.shape() == b.shape());
  REQUIRE(a.dtype() == b.dtype());
  const std::vector<T> va = a.to_vector<T>(), vb = b.to_vector<T>();
  REQUIRE(va.size() == vb.size());
  size_t bad = va.size();
  for (size_t i = 0; i < va.size() && bad == va.size(); ++i)
    if (std::memcmp(&va[i], &vb[i], sizeof(T)) != 0) bad = i;
  if (bad != va.size()) FAIL(what << ": first difference at " << bad << ": " << va[bad] << " vs " << vb[bad]);
}

void check_batches_equal(const exp::PhaseBatch& dev, const exp::PhaseBatch& host) {
  CHECK(dev.size == host.size);
  check_equal<float>(dev.x, host.x, "x");
  check_equal<int64_t>(dev.y, host.y, "y");
  check_equal<int64_t>(dev.clean_y, host.clean_y, "clean_y");
}

// Every training batch of two epochs (odd batch size: a partial last batch) and every test batch.
void compare_paths(exp::DataCache& cache, const exp::Hparams& ds, Device device) {
  exp::PhaseData host(cache, ds, 3, Device::cpu(), 99);
  exp::PhaseData dev(cache, ds, 3, device, 99);
  REQUIRE_FALSE(host.device_batches());
  REQUIRE(dev.set_device_batches(true));
  for (int64_t e = 0; e < 2; ++e) {
    const std::vector<int64_t> order = host.train_order(e);
    for (int64_t i = 0; i < host.ipe(); ++i) {
      check_batches_equal(dev.train_batch(order, i, e), host.train_batch(order, i, e));
      check_batches_equal(dev.train_batch(order, i, e, /*salt=*/1), host.train_batch(order, i, e, 1));
    }
  }
  for (int64_t b = 0; b < host.test_batches(); ++b) check_batches_equal(dev.test_batch(b), host.test_batch(b));
}

}  // namespace

TEST_CASE("device batch path on the CPU equals make_batch: MNIST format, never augmented", "[train]") {
  exp::DataCache cache(dataset_root());
  compare_paths(cache, dataset_bundle(37), Device::cpu());
  // each split uploaded once per device, however many PhaseData use it
  const int64_t uploads = cache.image_uploads();
  CHECK(uploads == 2);
  exp::PhaseData again(cache, dataset_bundle(37), 3, Device::cpu(), 99);
  REQUIRE(again.set_device_batches(true));
  CHECK(cache.image_uploads() == uploads);
  CHECK_FALSE(again.set_device_batches(false));
  CHECK_FALSE(again.device_batches());
}

TEST_CASE("device batch path on the CPU equals make_batch: CIFAR format, augmented and not", "[train]") {
  exp::DataCache cache(cifar_root());
  const exp::Hparams aug = cifar_bundle(4, true);
  exp::PhaseData probe(cache, aug, 0, Device::cpu(), 5);
  REQUIRE(probe.augmented());
  compare_paths(cache, aug, Device::cpu());
  compare_paths(cache, cifar_bundle(4, false), Device::cpu());
  // the augmentation really changes the batch (so the comparison above covers the flip/crop draws)
  const std::vector<int64_t> order = probe.train_order(0);
  REQUIRE(probe.set_device_batches(true));
  exp::PhaseData plain(cache, cifar_bundle(4, false), 0, Device::cpu(), 5);
  REQUIRE(plain.set_device_batches(true));
  const auto a = probe.train_batch(order, 0, 0).x.to_vector<float>();
  const auto p = plain.train_batch(order, 0, 0).x.to_vector<float>();
  CHECK(a != p);
}

TEST_CASE("device batches are refused for resampled datasets; the CPU default stays make_batch", "[train]") {
  exp::Dataset d;
  d.n = 2;
  d.h = d.w = 8;
  d.c = 3;
  d.mean = {0.f, 0.f, 0.f};
  d.std = {1.f, 1.f, 1.f};
  CHECK(exp::PhaseData::device_assemblable(d));
  d.out_h = d.out_w = 4;
  CHECK_FALSE(exp::PhaseData::device_assemblable(d));
  d.out_h = d.out_w = 0;
  d.augmentation = exp::Dataset::Augmentation::resized_crop_flip;
  CHECK_FALSE(exp::PhaseData::device_assemblable(d));
  exp::DataCache cache(dataset_root());
  exp::PhaseData data(cache, dataset_bundle(), 0, Device::cpu(), 0);
  CHECK_FALSE(data.device_batches());
}

TEST_CASE("ops::crop_flip_batch validates its inputs and equals make_batch on a raw split", "[train]") {
  Generator g(11);
  exp::Dataset d;
  d.name = "synthetic";
  d.n = 5;
  d.h = 6;
  d.w = 7;
  d.c = 2;
  d.images.resize(static_cast<size_t>(d.n * d.h * d.w * d.c));
  for (auto& v : d.images) v = static_cast<uint8_t>(g.below(256));
  d.labels = {0, 1, 0, 1, 1};
  d.original_labels = d.labels;
  d.mean = {0.3f, 0.6f};
  d.std = {0.2f, 0.25f};
  d.augmentable = true;
  const std::vector<int64_t> idx = {4, 0, 4, 2, 1, 3};
  exp::AugmentSpec spec;
  spec.enabled = true;
  spec.pad = 2;
  spec.seed = 0x1234567890ull;
  const exp::Batch ref = exp::make_batch(d, idx, spec, 3);
  const Tensor images = Tensor::from_vector(d.images, {d.n, d.h, d.w, d.c});
  const Tensor ti = Tensor::from_vector(idx, {static_cast<int64_t>(idx.size())});
  check_equal<float>(ops::crop_flip_batch(images, ti, 2, true, spec.seed, 3, d.mean, d.std), ref.x, "augmented x");
  check_equal<float>(ops::crop_flip_batch(images, ti, 2, false, 0, 0, d.mean, d.std),
                     exp::make_batch(d, idx, exp::AugmentSpec{}, 0).x, "plain x");
  CHECK(ops::crop_flip_batch(images, Tensor::from_vector(std::vector<int64_t>{}, {0}), 2, true, 1, 1, d.mean, d.std)
            .shape() == Shape{0, 2, 6, 7});
  CHECK_THROWS_AS(ops::crop_flip_batch(images, ti.view({2, 3}), 2, true, 1, 1, d.mean, d.std), InternalError);
  CHECK_THROWS_AS(ops::crop_flip_batch(images, ti, 2, true, 1, 1, {0.f}, {1.f}), InternalError);
  CHECK_THROWS_AS(ops::crop_flip_batch(images.view({d.n, d.h, d.w * d.c}), ti, 2, true, 1, 1, d.mean, d.std),
                  InternalError);
  CHECK_THROWS_AS(ops::crop_flip_batch(images, ti, -1, true, 1, 1, d.mean, d.std), InternalError);
}

// ------------------------------------------------------------------------------------------ pruning

namespace {

// Weights with many ties (multiples of 0.25 of both signs) and some exact zeros.
Tensor tied(const Shape& s, Generator& g) {
  std::vector<float> v(static_cast<size_t>(shape_numel(s)));
  for (auto& x : v) x = static_cast<float>(static_cast<int64_t>(g.below(13)) - 6) * 0.25f;
  return Tensor::from_vector(v, s);
}

struct Net {
  pruning::NamedTensors weights, grads;
  pruning::Mask mask;
  explicit Net(uint64_t seed) {
    Generator g(seed);
    const std::vector<std::pair<std::string, Shape>> shapes = {
        {"a.weight", {17, 9}}, {"b.weight", {31}}, {"c.weight", {5, 4, 3}}, {"d.weight", {13, 2}}};
    for (const auto& [n, s] : shapes) {
      weights.push_back({n, tied(s, g)});
      grads.push_back({n, tied(s, g)});
    }
    mask = pruning::Mask::ones(shapes);
    // a partly pruned starting mask (a second pruning level)
    pruning::PruningConfig c;
    c.fraction = 0.3;
    mask = pruning::prune_magnitude(mask, weights, c);
  }
};

void check_masks_equal(const pruning::Mask& a, const pruning::Mask& b) {
  REQUIRE(a.names() == b.names());
  for (const auto& n : a.names()) check_equal<float>(a.at(n), b.at(n), n.c_str());
}

}  // namespace

TEST_CASE("device threshold equals pruning/threshold.cpp: ties, ignored tensors, global and layer", "[train]") {
  Net net(21);
  for (const char* scope : {"global", "layer"}) {
    for (bool max_mag : {false, true}) {
      for (const std::vector<std::string>& ignore :
           {std::vector<std::string>{}, std::vector<std::string>{"b.weight"}, std::vector<std::string>{"a.weight", "d.weight"}}) {
        pruning::PruningConfig c;
        c.scope = scope;
        c.fraction = 0.15;
        c.prune_max_magnitude = max_mag;
        c.layers_to_ignore = ignore;
        INFO("scope " << scope << " max " << max_mag << " ignored " << ignore.size());
        const pruning::Mask host = pruning::prune_magnitude(net.mask, net.weights, c);
        const pruning::Mask dev = pruning::prune_magnitude_device(net.mask, net.weights, c);
        check_masks_equal(dev, host);
        CHECK(dev.unpruned() < net.mask.unpruned());
        c.strategy = "gradient";
        check_masks_equal(pruning::prune_gradient_device(net.mask, net.weights, net.grads, c),
                          pruning::prune_gradient(net.mask, net.weights, net.grads, c));
      }
    }
  }
}

TEST_CASE("device threshold: R counts ignored tensors, and too-large fractions are user errors", "[train]") {
  Net net(5);
  // global scope: R over ALL tensors, so ignoring tensors still prunes ceil(f*R)+1 (distinct scores aside)
  std::vector<pruning::DeviceCandidate> cands;
  std::vector<Tensor> all_masks;
  for (const auto& [n, w] : net.weights) {
    all_masks.push_back(net.mask.at(n));
    if (n != "c.weight") cands.push_back({n, net.mask.at(n), ops::prune_scores(w, Tensor(), false)});
  }
  const int64_t R = pruning::device_remaining(all_masks);
  CHECK(R == net.mask.unpruned());
  pruning::PruningConfig c;
  c.fraction = 0.2;
  c.layers_to_ignore = {"c.weight"};
  const pruning::Mask host = pruning::prune_magnitude(net.mask, net.weights, c);
  const std::vector<Tensor> masks = pruning::device_global_threshold(cands, R, c.fraction);
  REQUIRE(masks.size() == cands.size());
  for (size_t k = 0; k < cands.size(); ++k) check_equal<float>(masks[k].view(host.at(cands[k].name).shape()),
                                                               host.at(cands[k].name), cands[k].name.c_str());
  // nothing left to prune at that fraction: the same UserError as the host rule
  pruning::PruningConfig big;
  big.fraction = 0.99;
  big.layers_to_ignore = {"a.weight", "b.weight", "c.weight"};
  CHECK_THROWS_AS(pruning::prune_magnitude(net.mask, net.weights, big), UserError);
  CHECK_THROWS_AS(pruning::prune_magnitude_device(net.mask, net.weights, big), UserError);
}

TEST_CASE("pruning ops: scores, count_nonzero, k-th candidate and keep-above on the CPU", "[train]") {
  const Tensor w = Tensor::from_vector(std::vector<float>{-2.f, 0.5f, 0.f, 3.f, -0.5f}, {5});
  const Tensor g = Tensor::from_vector(std::vector<float>{1.f, -4.f, 9.f, 0.5f, 2.f}, {5});
  const Tensor m = Tensor::from_vector(std::vector<float>{1.f, 1.f, 0.f, 1.f, 1.f}, {5});
  CHECK(ops::prune_scores(w, Tensor(), false).to_vector<float>() == std::vector<float>{2.f, 0.5f, 0.f, 3.f, 0.5f});
  CHECK(ops::prune_scores(w, Tensor(), true).to_vector<float>() == std::vector<float>{-2.f, -0.5f, -0.f, -3.f, -0.5f});
  CHECK(ops::prune_scores(w, g, false).to_vector<float>() == std::vector<float>{2.f, 2.f, 0.f, 1.5f, 1.f});
  CHECK(ops::count_nonzero(m) == 4);
  const Tensor s = ops::prune_scores(w, Tensor(), false);
  float thr = -1.f;
  int64_t count = -1;
  REQUIRE(ops::candidate_kth_value({s}, {m}, 1, &thr, &count));
  CHECK(count == 4);
  CHECK(thr == 0.5f);   // candidates {2, 0.5, 3, 0.5} sorted: 0.5 0.5 2 3
  CHECK_FALSE(ops::candidate_kth_value({s}, {m}, 4, &thr, &count));
  CHECK(ops::mask_keep_above(s, m, thr).to_vector<float>() == std::vector<float>{1.f, 0.f, 0.f, 1.f, 0.f});
  CHECK_THROWS_AS(ops::prune_scores(w, Tensor::zeros({4}), false), InternalError);
  CHECK_THROWS_AS(ops::mask_keep_above(s, Tensor::zeros({5}, DType::i64), 0.f), InternalError);
}

// ------------------------------------------------------------------------------------------ [cuda]

TEST_CASE("cuda device batches and device threshold equal the CPU path", "[cuda]") {
  if (cuda_device_count() == 0) {
    std::cout << "SKIPPED: no CUDA device" << std::endl;
    return;
  }
  {
    exp::DataCache cache(cifar_root());
    compare_paths(cache, cifar_bundle(4, true), Device::cuda(0));
    exp::PhaseData d(cache, cifar_bundle(4, true), 0, Device::cuda(0), 1);
    CHECK(d.device_batches());   // on by default on CUDA
    CHECK(d.train_batch(d.train_order(0), 0, 0).x.device() == Device::cuda(0));
  }
  {
    exp::DataCache cache(dataset_root());
    compare_paths(cache, dataset_bundle(37), Device::cuda(0));
  }
  Net net(3);
  pruning::NamedTensors wd, gd;
  for (const auto& [n, w] : net.weights) wd.push_back({n, w.to(Device::cuda(0))});
  for (const auto& [n, gr] : net.grads) gd.push_back({n, gr.to(Device::cuda(0))});
  for (const char* scope : {"global", "layer"}) {
    pruning::PruningConfig c;
    c.scope = scope;
    c.fraction = 0.4;
    c.layers_to_ignore = {"b.weight"};
    check_masks_equal(pruning::prune_magnitude_device(net.mask, wd, c), pruning::prune_magnitude(net.mask, net.weights, c));
    c.strategy = "gradient";
    check_masks_equal(pruning::prune_gradient_device(net.mask, wd, gd, c),
                      pruning::prune_gradient(net.mask, net.weights, net.grads, c));
  }
}

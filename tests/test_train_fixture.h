// tests/test_train_fixture.h — shared set-up of the [train] tests: a tiny synthetic dataset in
// Fashion-MNIST IDX format (600 training / 100 test images of 28x28, class k shows a bright 6x6 block
// at a class-specific place over faint noise) under a temporary dataset root, the hyperparameter
// bundles of SPEC 11.1's training test (batch 50 -> 12 it/epoch, 3ep, warmup 10it, milestone 2ep),
// and small MLP models.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/rng.h"
#include "experiments/hparams/bundles.h"
#include "experiments/train/data_source.h"
#include "experiments/train/trainer.h"
#include "models/registry.h"

namespace sdd::test_train {

inline void put_be32(std::ofstream& f, uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                              static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
  f.write(reinterpret_cast<const char*>(b), 4);
}

inline void write_split(const std::string& dir, const std::string& pre, int64_t n, uint32_t seed) {
  std::vector<unsigned char> img(static_cast<size_t>(n * 28 * 28));
  std::vector<unsigned char> lab(static_cast<size_t>(n));
  uint32_t s = seed;
  auto next = [&]() { s = s * 1664525u + 1013904223u; return s >> 8; };
  for (int64_t i = 0; i < n; ++i) {
    const int k = static_cast<int>(next() % 10);
    lab[static_cast<size_t>(i)] = static_cast<unsigned char>(k);
    unsigned char* p = img.data() + i * 784;
    for (int j = 0; j < 784; ++j) p[j] = static_cast<unsigned char>(next() % 40);
    const int r0 = (k / 5) * 13 + 4, c0 = (k % 5) * 5 + 1;
    for (int r = r0; r < r0 + 6; ++r)
      for (int c = c0; c < c0 + 6; ++c) p[r * 28 + c] = static_cast<unsigned char>(200 + next() % 56);
  }
  std::ofstream fi(dir + "/" + pre + "-images-idx3-ubyte", std::ios::binary);
  put_be32(fi, 0x803);
  put_be32(fi, static_cast<uint32_t>(n));
  put_be32(fi, 28);
  put_be32(fi, 28);
  fi.write(reinterpret_cast<const char*>(img.data()), static_cast<std::streamsize>(img.size()));
  std::ofstream fl(dir + "/" + pre + "-labels-idx1-ubyte", std::ios::binary);
  put_be32(fl, 0x801);
  put_be32(fl, static_cast<uint32_t>(n));
  fl.write(reinterpret_cast<const char*>(lab.data()), static_cast<std::streamsize>(lab.size()));
}

// The dataset root holding <root>/fashion_mnist/{train,t10k}-*-ubyte (written once per process,
// removed at exit).
struct DataRoot {
  std::string path;
  DataRoot() {
    path = std::filesystem::temp_directory_path().string() + "/sdd_train_data_" + std::to_string(::getpid());
    std::filesystem::create_directories(path + "/fashion_mnist");
    write_split(path + "/fashion_mnist", "train", 600, 12345u);
    write_split(path + "/fashion_mnist", "t10k", 100, 777u);
  }
  ~DataRoot() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};
inline const std::string& dataset_root() {
  static const DataRoot root;
  return root.path;
}

// A fresh empty directory for one test's outputs, removed by the destructor.
struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path().string() + "/sdd_train_out_" + std::to_string(::getpid()) + "_" + tag +
           "_" + std::to_string(counter++);
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string sub(const std::string& name) const { return path + "/" + name; }
};

inline exp::Hparams dataset_bundle(int64_t batch_size = 50) {
  exp::Hparams d = exp::dataset_hparams();
  d.set("dataset_name", exp::Value::str("fashion_mnist"));
  d.set("batch_size", exp::Value::integer(batch_size));
  return d;
}

// SPEC 11.1: sgd lr 0.1, 3ep, warmup 10it, milestone 2ep (x0.1), data_order_seed 0 unless unseeded.
inline exp::Hparams training_bundle(bool seeded = true, double momentum = 0.0) {
  exp::Hparams t = exp::training_hparams();
  t.set("optimizer_name", exp::Value::str("sgd"));
  t.set("lr", exp::Value::flt(0.1));
  t.set("training_steps", exp::Value::str("3ep"));
  t.set("warmup_steps", exp::Value::str("10it"));
  t.set("milestone_steps", exp::Value::str("2ep"));
  t.set("gamma", exp::Value::flt(0.1));
  t.set("momentum", exp::Value::flt(momentum));
  if (seeded) t.set("data_order_seed", exp::Value::integer(0));
  return t;
}

inline models::ModelPtr make_mlp(uint64_t seed, const std::string& name = "mnist_mlp_16") {
  manual_seed(seed);
  return models::get_model(name, 10, "kaiming_normal", "uniform");
}

inline exp::RunContext quiet_context() {
  exp::RunContext ctx;
  ctx.dataset_root = dataset_root();
  ctx.verbose = false;
  return ctx;
}

inline std::vector<float> param_values(const models::Model& m, const std::string& name) {
  return m.parameter(name).to_vector<float>();
}

}  // namespace sdd::test_train

// tests/test_data_readers.cpp — IDX and CIFAR-binary readers on synthetic files written by the test
// (plain and gzipped), their user errors, the real Fashion-MNIST files, and `sparsedd dataset`.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "experiments/data/dataset.h"
#include "experiments/data/dataset_command.h"
#include "experiments/data/readers.h"

using namespace sdd::exp;

namespace {

std::string tmp_root(const std::string& name) {
  const std::string r = std::string(SDD_BINARY_DIR) + "/test_data_tmp/" + name;
  std::system(("rm -rf '" + r + "' && mkdir -p '" + r + "'").c_str());
  return r;
}

void write_file(const std::string& path, const std::vector<uint8_t>& bytes, bool gz) {
  std::system(("mkdir -p \"$(dirname '" + path + "')\"").c_str());
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
  } else {
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
}

void put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}

std::vector<uint8_t> idx_images(uint32_t n, uint32_t r, uint32_t c) {
  std::vector<uint8_t> v;
  put32(v, 0x803);
  put32(v, n);
  put32(v, r);
  put32(v, c);
  for (uint32_t i = 0; i < n * r * c; ++i) v.push_back(static_cast<uint8_t>(i * 7 + 3));
  return v;
}

std::vector<uint8_t> idx_labels(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> v;
  put32(v, 0x801);
  put32(v, static_cast<uint32_t>(labels.size()));
  v.insert(v.end(), labels.begin(), labels.end());
  return v;
}

std::string user_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const sdd::UserError& e) {
    return e.what();
  }
  return "<no UserError>";
}

}  // namespace

TEST_CASE("readers: MNIST IDX, plain and gzipped, torchvision raw layout", "[data]") {
  const std::string root = tmp_root("idx");
  const std::string raw = root + "/mnist/MNIST/raw/";
  write_file(raw + "train-images-idx3-ubyte.gz", idx_images(3, 4, 5), true);
  write_file(raw + "train-labels-idx1-ubyte", idx_labels({7, 0, 9}), false);
  const Dataset d = load_dataset("mnist", true, root);
  CHECK(d.n == 3);
  CHECK(d.h == 4);
  CHECK(d.w == 5);
  CHECK(d.c == 1);
  CHECK(d.labels == std::vector<int64_t>{7, 0, 9});
  CHECK(d.original_labels == d.labels);
  CHECK(d.images[0] == 3);
  CHECK(d.images[21] == static_cast<uint8_t>(21 * 7 + 3));  // example 1, pixel (0, 1)
  CHECK(d.example(1)[1] == static_cast<uint8_t>(21 * 7 + 3));
  CHECK(d.mean == std::vector<float>{0.1307f});
  CHECK(d.std == std::vector<float>{0.3081f});
  CHECK_FALSE(d.augmentable);
  // The test split is missing: the message names the file and the folders searched.
  const std::string msg = user_error([&] { load_dataset("mnist", false, root); });
  CHECK(msg.find("t10k-images-idx3-ubyte") != std::string::npos);
  CHECK(msg.find(root + "/mnist/MNIST/raw") != std::string::npos);
}

TEST_CASE("readers: corrupt IDX files are user errors naming the file", "[data]") {
  const std::string root = tmp_root("idx_bad");
  const std::string dir = root + "/mnist/";
  std::vector<uint8_t> img = idx_images(2, 2, 2);
  img[3] = 0x01;  // wrong magic
  write_file(dir + "train-images-idx3-ubyte", img, false);
  write_file(dir + "train-labels-idx1-ubyte", idx_labels({1, 2}), false);
  std::string msg = user_error([&] { load_dataset("mnist", true, root); });
  CHECK(msg.find(dir + "train-images-idx3-ubyte") != std::string::npos);
  CHECK(msg.find("magic") != std::string::npos);
  std::vector<uint8_t> trunc = idx_images(2, 2, 2);
  trunc.resize(trunc.size() - 1);
  write_file(dir + "train-images-idx3-ubyte", trunc, false);
  msg = user_error([&] { load_dataset("mnist", true, root); });
  CHECK(msg.find("truncated") != std::string::npos);
  write_file(dir + "train-images-idx3-ubyte", idx_images(2, 2, 2), false);
  write_file(dir + "train-labels-idx1-ubyte", idx_labels({1, 10}), false);
  msg = user_error([&] { load_dataset("mnist", true, root); });
  CHECK(msg.find("label 10") != std::string::npos);
  CHECK(msg.find("train-labels-idx1-ubyte") != std::string::npos);
}

TEST_CASE("readers: CIFAR-10 and CIFAR-100 binary records", "[data]") {
  const std::string root = tmp_root("cifar");
  // CIFAR-10: 5 train batches of 2 records, label = batch*2 + k; pixel byte = (ch*1024 + p + rec) % 256.
  for (int b = 1; b <= 5; ++b) {
    std::vector<uint8_t> v;
    for (int k = 0; k < 2; ++k) {
      v.push_back(static_cast<uint8_t>((b - 1) * 2 + k));
      for (int i = 0; i < 3072; ++i) v.push_back(static_cast<uint8_t>((i + k) % 256));
    }
    write_file(root + "/cifar10/cifar-10-batches-bin/data_batch_" + std::to_string(b) + ".bin", v, false);
  }
  const Dataset d = load_dataset("cifar10", true, root);
  CHECK(d.n == 10);
  CHECK(d.c == 3);
  CHECK(d.labels == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // HWC: example 1, pixel p = 5, channel 2 comes from CHW byte 2*1024 + 5.
  CHECK(d.example(1)[5 * 3 + 2] == static_cast<uint8_t>((2 * 1024 + 5 + 1) % 256));
  CHECK(d.augmentable);
  CHECK(d.mean[0] == 0.485f);
  // Missing test batch names the expected path and the download.
  std::string msg = user_error([&] { load_dataset("cifar10", false, root); });
  CHECK(msg.find("test_batch.bin") != std::string::npos);
  CHECK(msg.find("cifar-10-binary.tar.gz") != std::string::npos);
  // CIFAR-100: coarse byte then fine byte; the fine label is used.
  std::vector<uint8_t> v = {3, 42};
  for (int i = 0; i < 3072; ++i) v.push_back(1);
  v.push_back(0);
  v.push_back(99);
  for (int i = 0; i < 3072; ++i) v.push_back(2);
  write_file(root + "/cifar100/cifar-100-binary/test.bin", v, false);
  const Dataset e = load_dataset("cifar100", false, root);
  CHECK(e.labels == std::vector<int64_t>{42, 99});
  CHECK(e.num_classes == 100);
  // A truncated record.
  v.pop_back();
  write_file(root + "/cifar100/cifar-100-binary/test.bin", v, false);
  msg = user_error([&] { load_dataset("cifar100", false, root); });
  CHECK(msg.find("test.bin") != std::string::npos);
}

TEST_CASE("readers: python-pickle CIFAR only is a clear user error", "[data]") {
  const std::string root = tmp_root("cifar_py");
  write_file(root + "/cifar10/cifar-10-batches-py/data_batch_1", {1, 2, 3}, false);
  const std::string msg = user_error([&] { load_dataset("cifar10", true, root); });
  CHECK(msg.find("python-pickle") != std::string::npos);
  CHECK(msg.find("binary") != std::string::npos);
}

TEST_CASE("readers: dataset root resolution", "[data]") {
  CHECK(resolve_dataset_root("/given") == "/given");
  const char* old = std::getenv("SPARSEDD_DATA");
  const std::string saved = old ? old : "";
  setenv("SPARSEDD_DATA", "/from/env", 1);
  CHECK(resolve_dataset_root("") == "/from/env");
  unsetenv("SPARSEDD_DATA");
  const char* home = std::getenv("HOME");
  if (home) CHECK(resolve_dataset_root("") == std::string(home) + "/sparsedd_data");
  if (old) setenv("SPARSEDD_DATA", saved.c_str(), 1);
  CHECK_THROWS_AS(load_dataset("svhn", true, "/x"), sdd::UserError);
}

TEST_CASE("readers: real Fashion-MNIST from the Debian package", "[data]") {
  Dataset d;
  try {
    d = load_dataset("fashion_mnist", false, "/nonexistent-sparsedd-root");
  } catch (const sdd::UserError& e) {
    std::cout << "SKIPPED: Fashion-MNIST not installed (" << e.what() << ")\n";
    return;
  }
  CHECK(d.n == 10000);
  CHECK(d.h == 28);
  CHECK(d.w == 28);
  CHECK(d.labels[0] == 9);
}

TEST_CASE("dataset command: flags, summary and unknown flags", "[data]") {
  CHECK_THROWS_AS(dataset_command({"--dataset_name=mnist", "--bogus=1"}), sdd::UserError);
  CHECK_THROWS_AS(dataset_command({"--random_labels_fraction=0.1"}), sdd::UserError);  // no dataset name
  CHECK_THROWS_AS(dataset_command({"--dataset_name=mnist", "--subsample_fraction=abc"}), sdd::UserError);
  const std::string root = tmp_root("cmd");
  write_file(root + "/mnist/train-images-idx3-ubyte", idx_images(4, 2, 2), false);
  write_file(root + "/mnist/train-labels-idx1-ubyte", idx_labels({1, 2, 3, 4}), false);
  write_file(root + "/mnist/t10k-images-idx3-ubyte", idx_images(2, 2, 2), false);
  write_file(root + "/mnist/t10k-labels-idx1-ubyte", idx_labels({5, 6}), false);
  std::stringstream cap;
  auto* old = std::cout.rdbuf(cap.rdbuf());
  int rc = -1;
  try {
    rc = dataset_command({"--dataset_name", "mnist", "--dataset_root=" + root, "--subsample_fraction=0.5",
                          "--transformation_seed", "None"});
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  CHECK(rc == 0);
  const std::string out = cap.str();
  CHECK(out.find("mnist train: 2 examples of 2x2x1, 10 classes") != std::string::npos);
  CHECK(out.find("mnist test: 2 examples") != std::string::npos);
  CHECK(out.find("first labels: 5 6") != std::string::npos);
}

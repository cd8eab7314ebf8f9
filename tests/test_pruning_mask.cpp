// tests/test_pruning_mask.cpp — mask files: safetensors round trip, sparsity report bytes, errors.
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "engine/io/atomic_file.h"
#include "pruning/mask.h"

using namespace sdd;
using namespace sdd::pruning;
namespace fs = std::filesystem;

namespace {
std::string temp_dir(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("sdd_mask_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}
}  // namespace

TEST_CASE("mask save/load round trip keeps names, order and values; report is byte-exact", "[pruning]") {
  Mask m = Mask::ones({{"fc_layers.0.weight", {30, 784}}, {"fc_layers.1.weight", {20, 30}}, {"fc.weight", {10, 20}}});
  std::vector<float> v(600, 1.f);
  for (size_t i = 0; i < v.size(); i += 3) v[i] = 0.f;
  m.set("fc_layers.1.weight", Tensor::from_vector(v, {20, 30}));
  const std::string dir = temp_dir("rt");
  m.save(dir);
  REQUIRE(Mask::exists(dir));
  Mask back = Mask::load(dir);
  CHECK(back.names() == m.names());
  for (const auto& [name, t] : m.entries()) {
    CHECK(back.at(name).shape() == t.shape());
    CHECK(back.at(name).to_vector<float>() == t.to_vector<float>());
  }
  CHECK(io::read_file(dir + "/sparsity_report.json") == "{\n    \"total\": 24320.0,\n    \"unpruned\": 24120.0\n}");
  fs::remove_all(dir);
}

TEST_CASE("mask rejects non-binary values and corrupt files", "[pruning]") {
  Mask m;
  CHECK_THROWS_AS(m.set("w", Tensor::full({3}, 0.5)), InternalError);
  const std::string dir = temp_dir("bad");
  {
    std::ofstream f(dir + "/mask.safetensors", std::ios::binary);
    f << "garbage";
  }
  CHECK_THROWS_AS(Mask::load(dir), UserError);
  fs::remove_all(dir);
}

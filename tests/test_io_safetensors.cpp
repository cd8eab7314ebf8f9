// tests/test_io_safetensors.cpp — safetensors: round trips of every dtype with metadata, the exact
// bytes of the standard format (hand-built files), the reference writer's tensor order, and rejection
// of every kind of corrupt or truncated file with a one-line UserError naming the file.
#include <dirent.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/tensor.h"

using sdd::DType;
using sdd::Tensor;
namespace io = sdd::io;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sdd_io_st_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(::mkdtemp(buf.data()) != nullptr);
    path = buf.data();
  }
  ~TempDir() {
    if (DIR* d = ::opendir(path.c_str())) {
      while (dirent* e = ::readdir(d)) {
        const std::string n = e->d_name;
        if (n != "." && n != "..") ::unlink((path + "/" + n).c_str());
      }
      ::closedir(d);
    }
    ::rmdir(path.c_str());
  }
};

std::string u64le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

template <class T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// A safetensors file built by hand: length prefix + header text (unpadded unless given) + data.
std::string hand_file(const std::string& header, const std::string& data) { return u64le(header.size()) + header + data; }

template <class F>
std::string user_error_of(F&& fn) {
  try {
    fn();
  } catch (const sdd::UserError& e) {
    return e.what();
  }
  FAIL("expected a UserError");
  return "";
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

}  // namespace

TEST_CASE("safetensors round trip of every dtype with metadata", "[io]") {
  TempDir dir;
  const std::string path = dir.path + "/model.safetensors";
  io::TensorList in = {
      {"fc1.weight", Tensor::from_vector<float>({1.5f, -2.25f, 3.0f, 1e-30f, -0.0f, 7.0f}, {2, 3})},
      {"bn.num_batches_tracked", Tensor::from_vector<int64_t>({int64_t(1) << 40}, {})},
      {"labels", Tensor::from_vector<int64_t>({-1, 0, 9, INT64_MAX}, {4})},
      {"images", Tensor::from_vector<uint8_t>({0, 1, 127, 128, 255, 42}, {1, 2, 3})},
      {"acc", Tensor::from_vector<double>({0.1, -1e300}, {2, 1})},
      {"idx", Tensor::from_vector<int32_t>({-7, INT32_MAX, INT32_MIN}, {3})},
      {"empty", Tensor::zeros({0, 5}, DType::f32)},
  };
  const io::Metadata meta = {{"format", "pt"}, {"epoch", "160"}, {"note", "quote \" and \\ and \xc3\xa9"}};
  io::save_safetensors(path, in, meta);
  const io::SafetensorsContents out = io::load_safetensors(path);
  CHECK(out.metadata == meta);
  REQUIRE(out.tensors.size() == in.size());
  for (const auto& [name, t] : in) {
    const Tensor* got = out.find(name);
    REQUIRE(got != nullptr);
    INFO(name);
    CHECK(got->device() == sdd::Device::cpu());
    CHECK(same_bytes(*got, t));
  }
  // Tensors come back in file-data order, which the writer chose as the reference does:
  // descending dtype (I64 > F64 > F32 > I32 > U8), then name.
  std::vector<std::string> names;
  for (const auto& [n, t] : out.tensors) names.push_back(n);
  CHECK(names == std::vector<std::string>{"bn.num_batches_tracked", "labels", "acc", "empty", "fc1.weight", "idx",
                                          "images"});
  // The bytes on disk are exactly what serialize_safetensors produces.
  CHECK(io::read_file(path) == io::serialize_safetensors(in, meta));
  CHECK_THROWS_AS(out.get("nope", path), sdd::UserError);
}

TEST_CASE("safetensors writer emits the standard bytes for a single F32 tensor", "[io]") {
  // 8-byte little-endian header length, compact JSON header, raw little-endian floats.
  const std::vector<float> vals = {0.f, 1.f, 2.f, 3.f, 4.f, 5.f};
  {
    const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
    REQUIRE(header.size() == 64);   // already a multiple of 8: no padding
    const std::string expect = hand_file(header, raw_bytes(vals));
    const std::string got = io::serialize_safetensors({{"attn.0", Tensor::from_vector(vals, {1, 2, 3})}});
    CHECK(got == expect);
    CHECK(got.substr(0, 8) == std::string("\x40\0\0\0\0\0\0\0", 8));
    CHECK(got.substr(72, 8) == std::string("\0\0\0\0\0\0\x80\x3f", 8));   // 0.0f, 1.0f little-endian
  }
  {
    // 65-byte header: padded with 7 spaces to 72 so the data starts 8-aligned
    const std::string header = R"({"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}})";
    REQUIRE(header.size() == 65);
    const std::string expect = hand_file(header + std::string(7, ' '), raw_bytes(vals));
    CHECK(io::serialize_safetensors({{"attn0", Tensor::from_vector(vals, {1, 1, 2, 3})}}) == expect);
  }
}

TEST_CASE("safetensors writer: empty file, metadata first, reference tensor order", "[io]") {
  CHECK(io::serialize_safetensors({}) == hand_file("{}      ", ""));
  CHECK(io::serialize_safetensors({}, {{"framework", "pt"}}) ==
        hand_file(R"({"__metadata__":{"framework":"pt"}})" + std::string(5, ' '), ""));
  // Given in the order u8, f32 "b", i64, f32 "a": written i64, f32 a, f32 b, u8 (data in that order).
  const io::TensorList in = {
      {"m", Tensor::from_vector<uint8_t>({1, 2, 3}, {3})},
      {"b", Tensor::from_vector<float>({2.f}, {1})},
      {"z", Tensor::from_vector<int64_t>({5}, {1})},
      {"a", Tensor::from_vector<float>({1.f}, {1})},
  };
  const std::string header = std::string("{") + R"("z":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)" +
                             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)" +
                             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]},)" +
                             R"("m":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}})";
  const std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  const std::string data = raw_bytes(std::vector<int64_t>{5}) + raw_bytes(std::vector<float>{1.f, 2.f}) +
                           raw_bytes(std::vector<uint8_t>{1, 2, 3});
  CHECK(io::serialize_safetensors(in) == hand_file(padded, data));
}

TEST_CASE("safetensors reader accepts hand-built files in any header order", "[io]") {
  // Header keys not in data order, no padding, metadata last, an unknown extra field ignored.
  const std::string header =
      R"({"w":{"dtype":"F64","shape":[2],"data_offsets":[4,20]},)"
      R"("s":{"dtype":"I32","shape":[],"data_offsets":[0,4],"extra":1},"__metadata__":{"k":"v"}})";
  const std::string data = raw_bytes(std::vector<int32_t>{-3}) + raw_bytes(std::vector<double>{0.5, -8.0});
  const io::SafetensorsContents c = io::parse_safetensors(hand_file(header, data), "hand.safetensors");
  REQUIRE(c.tensors.size() == 2);
  CHECK(c.tensors[0].first == "s");
  CHECK(c.tensors[1].first == "w");
  CHECK(c.tensors[0].second.shape().empty());
  CHECK(c.tensors[0].second.to_vector<int32_t>() == std::vector<int32_t>{-3});
  CHECK(c.tensors[1].second.to_vector<double>() == std::vector<double>{0.5, -8.0});
  CHECK(c.metadata == io::Metadata{{"k", "v"}});
  CHECK(c.get("w").dtype() == DType::f64);
}

TEST_CASE("safetensors reader rejects every kind of corruption with the path", "[io]") {
  TempDir dir;
  const std::string f4 = raw_bytes(std::vector<float>{1.f, 2.f, 3.f, 4.f});   // 16 bytes
  struct Case {
    const char* what;
    std::string bytes;
    const char* expect;   // a phrase of the message
  };
  const std::vector<Case> cases = {
      {"shorter than the length field", std::string("\x05\0\0", 3), "fewer than the 8-byte"},
      {"header length beyond file size", u64le(1000) + "{}", "exceeds the file size"},
      {"header length near 2^64", u64le(~uint64_t(0)) + "{}      ", "exceeds the file size"},
      {"bad JSON", hand_file(R"({"a":{"dtype":"F32",)", ""), "not valid JSON"},
      {"not UTF-8", hand_file("{\"\xff\":1}", ""), "not valid JSON"},
      {"header not an object", hand_file("[1,2]", ""), "not a JSON object"},
      {"entry not an object", hand_file(R"({"a":3})", ""), "not an object"},
      {"missing field", hand_file(R"({"a":{"dtype":"F32","shape":[4]}})", f4), "lacks one of"},
      {"unknown dtype", hand_file(R"({"a":{"dtype":"Q7","shape":[4],"data_offsets":[0,16]}})", f4), "unknown or unsupported dtype"},
      {"unsupported dtype F16", hand_file(R"({"a":{"dtype":"F16","shape":[8],"data_offsets":[0,16]}})", f4), "\"F16\""},
      {"dtype not a string", hand_file(R"({"a":{"dtype":4,"shape":[4],"data_offsets":[0,16]}})", f4), "not a string"},
      {"negative dim", hand_file(R"({"a":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", f4), "non-negative integer"},
      {"float dim", hand_file(R"({"a":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}})", f4), "non-negative integer"},
      {"huge shape", hand_file(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,16]}})", f4), "too large"},
      {"offsets not a pair", hand_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}})", f4), "pair"},
      {"offsets reversed", hand_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[16,0]}})", f4), "end before"},
      {"offsets out of range", hand_file(R"({"a":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", f4), "out of range"},
      {"shape/size mismatch", hand_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", f4), "needs 12 bytes"},
      {"dtype/size mismatch", hand_file(R"({"a":{"dtype":"F64","shape":[4],"data_offsets":[0,16]}})", f4), "needs 32 bytes"},
      {"overlap", hand_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", f4), "overlaps"},
      {"gap", hand_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", f4), "gap of 4 bytes"},
      {"not covering", hand_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f4), "trailing bytes"},
      {"duplicate names", hand_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", f4), "appears twice"},
      {"metadata not strings", hand_file(R"({"__metadata__":{"epoch":160}})", ""), "not a string"},
      {"metadata not an object", hand_file(R"({"__metadata__":"x"})", ""), "__metadata__"},
  };
  int k = 0;
  for (const Case& c : cases) {
    INFO(c.what);
    const std::string path = dir.path + "/bad" + std::to_string(k++) + ".safetensors";
    io::write_file_atomic(path, c.bytes);
    const std::string msg = user_error_of([&] { io::load_safetensors(path); });
    CHECK_THAT(msg, Catch::Matchers::Contains(path));
    CHECK_THAT(msg, Catch::Matchers::Contains(c.expect));
    CHECK(msg.find('\n') == std::string::npos);
  }
}

TEST_CASE("safetensors reader rejects every truncation of a valid file", "[io]") {
  const io::TensorList in = {
      {"conv.weight", Tensor::from_vector<float>({1, 2, 3, 4, 5, 6, 7, 8}, {2, 1, 2, 2})},
      {"labels", Tensor::from_vector<int64_t>({3, 1}, {2})},
      {"mask", Tensor::from_vector<uint8_t>({1, 0, 1}, {3})},
  };
  const std::string full = io::serialize_safetensors(in, {{"step", "12"}});
  REQUIRE_NOTHROW(io::parse_safetensors(full, "full"));
  for (size_t cut = 0; cut < full.size(); ++cut) {
    INFO("truncated to " << cut << " of " << full.size() << " bytes");
    const std::string msg = user_error_of([&] { io::parse_safetensors(full.substr(0, cut), "ckpt.safetensors"); });
    CHECK_THAT(msg, Catch::Matchers::Contains("ckpt.safetensors"));
  }
  // trailing garbage is rejected as well
  CHECK_THROWS_AS(io::parse_safetensors(full + "x", "f"), sdd::UserError);
}

TEST_CASE("safetensors load of a missing file names the path", "[io]") {
  TempDir dir;
  const std::string path = dir.path + "/missing.safetensors";
  const std::string msg = user_error_of([&] { io::load_safetensors(path); });
  CHECK_THAT(msg, Catch::Matchers::Contains(path));
}

TEST_CASE("safetensors save replaces the old file atomically", "[io]") {
  TempDir dir;
  const std::string path = dir.path + "/mask.safetensors";
  io::save_safetensors(path, {{"a", Tensor::from_vector<float>({1.f}, {1})}});
  io::save_safetensors(path, {{"b", Tensor::from_vector<float>({2.f, 3.f}, {2})}}, {{"level", "3"}});
  const io::SafetensorsContents c = io::load_safetensors(path);
  REQUIRE(c.tensors.size() == 1);
  CHECK(c.tensors[0].first == "b");
  CHECK(c.tensors[0].second.to_vector<float>() == std::vector<float>{2.f, 3.f});
  CHECK(c.metadata.at("level") == "3");
  // a save that cannot happen (target is a directory) keeps nothing half-written
  const std::string msg = user_error_of([&] { io::save_safetensors(dir.path, {{"a", Tensor::zeros({1})}}); });
  CHECK_THAT(msg, Catch::Matchers::Contains(dir.path));
  CHECK(io::load_safetensors(path).tensors[0].first == "b");
}

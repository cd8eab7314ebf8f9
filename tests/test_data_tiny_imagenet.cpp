// tests/test_data_tiny_imagenet.cpp — Tiny ImageNet on small synthetic JPEG folders written with
// tjCompress2 (both layouts): labels, sorted order, sizes, the decoded cache (reuse, invalidation,
// corruption), corrupt JPEGs, and the Resize/CenterCrop and RandomResizedCrop batch transforms.
#include <catch2/catch.hpp>
#include <turbojpeg.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <fstream>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/data/augment.h"
#include "experiments/data/dataset.h"
#include "experiments/data/tiny_imagenet.h"
#include "kernels/augment_ops.h"

using namespace sdd::exp;

namespace {

std::string tmp_root(const std::string& name) {
  const std::string r = std::string(SDD_BINARY_DIR) + "/test_data_tmp/tiny_" + name;
  std::system(("rm -rf '" + r + "' && mkdir -p '" + r + "'").c_str());
  return r;
}

// A flat-colour 64x64 RGB JPEG: colour (v, 255 - v, v / 2), high quality, 4:4:4.
void write_jpeg(const std::string& path, int v, int size = 64) {
  std::system(("mkdir -p \"$(dirname '" + path + "')\"").c_str());
  std::vector<unsigned char> rgb(static_cast<size_t>(size * size * 3));
  for (int i = 0; i < size * size; ++i) {
    rgb[static_cast<size_t>(3 * i)] = static_cast<unsigned char>(v);
    rgb[static_cast<size_t>(3 * i + 1)] = static_cast<unsigned char>(255 - v);
    rgb[static_cast<size_t>(3 * i + 2)] = static_cast<unsigned char>(v / 2);
  }
  tjhandle tj = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long len = 0;
  REQUIRE(tjCompress2(tj, rgb.data(), size, 0, size, TJPF_RGB, &jpeg, &len, TJSAMP_444, 98, 0) == 0);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(jpeg), static_cast<std::streamsize>(len));
  tjFree(jpeg);
  tjDestroy(tj);
}

void write_text(const std::string& path, const std::string& text) {
  std::system(("mkdir -p \"$(dirname '" + path + "')\"").c_str());
  std::ofstream(path, std::ios::binary) << text;
}

std::string user_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const sdd::UserError& e) {
    return e.what();
  }
  return "<no UserError>";
}

// Red channel of example i (flat images, so any pixel).
int red(const Dataset& d, int64_t i) { return d.images[static_cast<size_t>(i * d.example_bytes())]; }

// Class-folder layout: train/{b_cls,a_cls}, val/{a_cls,b_cls}; red channel encodes (class, file).
std::string class_folder_tree(const std::string& name) {
  const std::string root = tmp_root(name);
  const std::string t = root + "/tiny_imagenet";
  write_jpeg(t + "/train/b_cls/z.jpeg", 200);
  write_jpeg(t + "/train/b_cls/a.JPEG", 180);
  write_jpeg(t + "/train/a_cls/m2.jpeg", 60);
  write_jpeg(t + "/train/a_cls/m1.jpeg", 40);
  write_jpeg(t + "/train/a_cls/m3.jpeg", 80);
  write_text(t + "/train/a_cls/notes.txt", "not an image");
  write_jpeg(t + "/val/a_cls/v.jpeg", 100);
  write_jpeg(t + "/val/b_cls/w.jpeg", 220);
  return root;
}

}  // namespace

TEST_CASE("tiny_imagenet: class-folder layout, sorted classes and files", "[data]") {
  const std::string root = class_folder_tree("classfolder");
  const Dataset d = load_dataset("tiny_imagenet", true, root);
  REQUIRE(d.n == 5);
  CHECK(d.h == 64);
  CHECK(d.w == 64);
  CHECK(d.c == 3);
  CHECK(d.num_classes == 200);
  CHECK(d.labels == std::vector<int64_t>{0, 0, 0, 1, 1});
  CHECK(d.original_labels == d.labels);
  const std::vector<int> want = {40, 60, 80, 180, 200};  // a_cls/m1,m2,m3 then b_cls/a,z
  for (int64_t i = 0; i < 5; ++i) CHECK(std::abs(red(d, i) - want[static_cast<size_t>(i)]) <= 2);
  CHECK(d.augmentable);
  CHECK(d.batch_h() == 32);
  CHECK(d.batch_w() == 32);
  const Dataset v = load_dataset("tinyimagenet", false, root);  // the presets' alias
  REQUIRE(v.n == 2);
  CHECK(v.labels == std::vector<int64_t>{0, 1});
  CHECK(std::abs(red(v, 1) - 220) <= 2);
  CHECK(is_known_dataset("tiny_imagenet"));
  CHECK(is_known_dataset("tinyimagenet"));
}

TEST_CASE("tiny_imagenet: official layout with wnids.txt and val_annotations.txt", "[data]") {
  const std::string root = tmp_root("official");
  const std::string t = root + "/tiny-imagenet-200";
  write_text(t + "/wnids.txt", "n0200\nn0100\n");
  write_jpeg(t + "/train/n0200/images/n0200_1.JPEG", 150);
  write_jpeg(t + "/train/n0200/images/n0200_0.JPEG", 130);
  write_jpeg(t + "/train/n0100/images/n0100_0.JPEG", 30);
  write_text(t + "/train/n0100/n0100_boxes.txt", "n0100_0.JPEG\t0\t0\t10\t10\n");
  write_jpeg(t + "/val/images/val_1.JPEG", 210);
  write_jpeg(t + "/val/images/val_0.JPEG", 20);
  write_text(t + "/val/val_annotations.txt", "val_1.JPEG\tn0200\t0\t0\t5\t5\nval_0.JPEG\tn0100\t1\t1\t6\t6\n");
  const Dataset d = load_dataset("tiny_imagenet", true, root);
  REQUIRE(d.n == 3);
  CHECK(d.labels == std::vector<int64_t>{0, 1, 1});
  CHECK(std::abs(red(d, 0) - 30) <= 2);
  CHECK(std::abs(red(d, 1) - 130) <= 2);
  CHECK(std::abs(red(d, 2) - 150) <= 2);
  const Dataset v = load_dataset("tiny_imagenet", false, root);
  REQUIRE(v.n == 2);
  CHECK(v.labels == std::vector<int64_t>{0, 1});  // val_0 -> n0100 (0), val_1 -> n0200 (1)
  CHECK(std::abs(red(v, 0) - 20) <= 2);
  // An annotation naming an unknown class is a user error naming the file.
  write_text(t + "/val/val_annotations.txt", "val_1.JPEG\tn0999\t0\t0\t5\t5\nval_0.JPEG\tn0100\t1\t1\t6\t6\n");
  CHECK(user_error([&] { load_dataset("tiny_imagenet", false, root); }).find("val_annotations.txt") != std::string::npos);
  // The val annotations do not label the train split: its cache stays valid.
  const int64_t before = jpeg_images_decoded();
  CHECK(load_dataset("tiny_imagenet", true, root).labels == d.labels);
  CHECK(jpeg_images_decoded() == before);
}

TEST_CASE("tiny_imagenet: the decoded cache is reused, invalidated and rebuilt", "[data]") {
  const std::string root = class_folder_tree("cache");
  const std::string t = root + "/tiny_imagenet";
  const int64_t c0 = jpeg_images_decoded();
  const Dataset first = load_dataset("tiny_imagenet", true, root);
  CHECK(jpeg_images_decoded() - c0 == 5);
  CHECK(sdd::io::file_exists(t + "/.sparsedd_cache_train.bin"));
  const Dataset again = load_dataset("tiny_imagenet", true, root);
  CHECK(jpeg_images_decoded() - c0 == 5);  // loaded from the cache: nothing decoded
  CHECK(again.images == first.images);
  CHECK(again.labels == first.labels);

  // A changed image (new size and mtime) makes the cache stale.
  write_jpeg(t + "/train/a_cls/m2.jpeg", 90);
  const Dataset changed = load_dataset("tiny_imagenet", true, root);
  CHECK(jpeg_images_decoded() - c0 == 10);
  CHECK(std::abs(red(changed, 1) - 90) <= 2);
  CHECK(load_dataset("tiny_imagenet", true, root).images == changed.images);
  CHECK(jpeg_images_decoded() - c0 == 10);

  // A flipped payload byte fails the checksum: rebuilt, same contents.
  {
    std::fstream f(t + "/.sparsedd_cache_train.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('\x5a');
  }
  const Dataset rebuilt = load_dataset("tiny_imagenet", true, root);
  CHECK(jpeg_images_decoded() - c0 == 15);
  CHECK(rebuilt.images == changed.images);
  // A truncated cache too.
  std::system(("truncate -s 100 '" + t + "/.sparsedd_cache_train.bin'").c_str());
  CHECK(load_dataset("tiny_imagenet", true, root).labels == changed.labels);
  CHECK(jpeg_images_decoded() - c0 == 20);
}

TEST_CASE("tiny_imagenet: a corrupt JPEG or a missing root is a user error naming it", "[data]") {
  const std::string root = class_folder_tree("corrupt");
  write_text(root + "/tiny_imagenet/train/b_cls/broken.jpeg", "this is not a JPEG file at all");
  const std::string msg = user_error([&] { load_dataset("tiny_imagenet", true, root); });
  CHECK(msg.find("broken.jpeg") != std::string::npos);
  // A truncated JPEG too.
  write_jpeg(root + "/tiny_imagenet/train/b_cls/broken.jpeg", 10);
  std::system(("truncate -s 300 '" + root + "/tiny_imagenet/train/b_cls/broken.jpeg'").c_str());
  CHECK(user_error([&] { load_dataset("tiny_imagenet", true, root); }).find("broken.jpeg") != std::string::npos);
  const std::string none = tmp_root("none");
  CHECK(user_error([&] { load_dataset("tiny_imagenet", true, none); }).find("tiny-imagenet-200") != std::string::npos);
}

TEST_CASE("tiny_imagenet: resize geometry and PIL-style antialiased bilinear", "[data]") {
  CHECK(center_crop_offset(45, 32) == 6);  // round(6.5) = 6, half to even as Python
  CHECK(center_crop_offset(46, 32) == 7);
  CHECK(center_crop_offset(47, 32) == 8);  // round(7.5) = 8
  int64_t oh = 0, ow = 0;
  resize_shorter_side(64, 64, 45, &oh, &ow);
  CHECK((oh == 45 && ow == 45));
  resize_shorter_side(64, 48, 45, &oh, &ow);
  CHECK((oh == 60 && ow == 45));
  // 1-channel 4x4 image, values 0..15.
  std::vector<uint8_t> img(16);
  for (int i = 0; i < 16; ++i) img[static_cast<size_t>(i)] = static_cast<uint8_t>(i * 10);
  using sdd::kern::aa_resize_sample;
  // Same size: the pixel itself.
  CHECK(aa_resize_sample(img.data(), 4, 1, 0, 0, 0, 4, 4, 4, 4, 2, 1) == Approx(img[2 * 4 + 1]));
  // Halving one axis (4 -> 2 columns): PIL's triangle of half-width 2 around x = 1.0 gives taps
  // x = 0, 1, 2 with weights 0.75, 0.75, 0.25.
  const float want = (0.75f * 0 + 0.75f * 10 + 0.25f * 20) / 1.75f;
  CHECK(aa_resize_sample(img.data(), 4, 1, 0, 0, 0, 4, 4, 4, 2, 0, 0) == Approx(want));
  // A sub-box (rows 1..2, cols 2..3) kept at its size reads the box.
  CHECK(aa_resize_sample(img.data(), 4, 1, 0, 1, 2, 2, 2, 2, 2, 1, 1) == Approx(img[2 * 4 + 3]));
}

TEST_CASE("tiny_imagenet: batches are 32x32, eval is deterministic, augmentation keyed", "[data]") {
  // Synthetic 64x64x3 split with a gradient, Tiny ImageNet transforms.
  Dataset d;
  d.name = "tiny_imagenet";
  d.n = 4;
  d.h = d.w = 64;
  d.c = 3;
  d.num_classes = 200;
  for (int64_t i = 0; i < d.n; ++i) {
    d.labels.push_back(i * 7);
    for (int64_t y = 0; y < 64; ++y)
      for (int64_t x = 0; x < 64; ++x)
        for (int64_t c = 0; c < 3; ++c) d.images.push_back(static_cast<uint8_t>((x * 3 + y * 2 + c * 40 + i * 9) % 256));
  }
  d.original_labels = d.labels;
  d.mean = {0.485f, 0.456f, 0.406f};
  d.std = {0.229f, 0.224f, 0.225f};
  d.augmentable = true;
  d.augmentation = Dataset::Augmentation::resized_crop_flip;
  d.out_h = d.out_w = 32;
  d.eval_resize = 45;

  AugmentSpec off;
  const Batch e = make_batch(d, {2, 0}, off, 0);
  REQUIRE(e.x.shape() == sdd::Shape{2, 3, 32, 32});
  CHECK(e.y.to_vector<int64_t>() == std::vector<int64_t>{14, 0});
  // Eval pixel (y, x) = resized-45 pixel (y + 6, x + 6) of the whole image.
  const float* px = e.x.data<float>();
  for (int32_t y : {0, 13, 31})
    for (int32_t x : {0, 20, 31}) {
      const float v = sdd::kern::aa_resize_sample(d.example(2), 64, 3, 1, 0, 0, 64, 64, 45, 45, y + 6, x + 6);
      CHECK(px[(1 * 32 + y) * 32 + x] == Approx((v / 255.f - 0.456f) / 0.224f).margin(1e-5));
    }
  CHECK(make_batch(d, {2, 0}, off, 5).x.to_vector<float>() == e.x.to_vector<float>());  // epoch-independent

  AugmentSpec on;
  on.enabled = true;
  on.seed = 11;
  const std::vector<float> a = make_batch(d, {0, 1, 2, 3}, on, 1).x.to_vector<float>();
  CHECK(make_batch(d, {0, 1, 2, 3}, on, 1).x.to_vector<float>() == a);
  CHECK(make_batch(d, {0, 1, 2, 3}, on, 2).x.to_vector<float>() != a);
  // Example 3's crop does not depend on its batch position.
  const std::vector<float> solo = make_batch(d, {3}, on, 1).x.to_vector<float>();
  CHECK(std::vector<float>(a.begin() + 3 * 3 * 1024, a.end()) == solo);
  // Matches the drawn box resampled by the shared functor.
  const auto p = sdd::kern::draw_resized_crop(11, 1, 3, 64, 64, 0.08f, 1.f, 3.f / 4.f, 4.f / 3.f);
  const int32_t xs = p.flip ? 31 - 5 : 5;
  const float v = sdd::kern::aa_resize_sample(d.example(3), 64, 3, 0, p.top, p.left, p.height, p.width, 32, 32, 9, xs);
  CHECK(solo[9 * 32 + 5] == Approx((v / 255.f - 0.485f) / 0.229f).margin(1e-5));
}

// experiments/data/tiny_imagenet.h — Tiny ImageNet (SPEC 4.4): folder listing (official archive
// layout or the original framework's class-folder layout), JPEG decoding with libjpeg-turbo on all
// cores, and a checksummed uint8 cache beside the data so that only the first run decodes.
//
// Root: <dataset_root>/tiny_imagenet or <dataset_root>/tiny-imagenet-200.
//   official      train/<wnid>/images/*.JPEG, val/images/*.JPEG + val/val_annotations.txt (file -> wnid),
//                 wnids.txt (optional; else the train folder names)
//   class-folder  train/<class>/*.jpeg, val/<class>/*.jpeg
// Classes are sorted by name, label = index in that order (the val split of the official layout uses
// the train classes). Files are sorted by name inside each class: a documented fix of the original's
// unordered, thread-completion-order listing (DESIGN 4 #16). Images are stored at their native size
// (64x64 RGB), uint8 [N, H, W, 3].
//
// Cache file <root>/.sparsedd_cache_{train,val}.bin:
//   magic "SDDIMGC1" (8 bytes) | u32 version | u32 0 | i64 N, H, W, C | 16-byte MD5 of the sorted list of
//   (relative path, label, size, mtime) | u64 payload hash (labels, images hashed apart) | payload: i64 labels[N], u8 images[N*H*W*C]
// written atomically; a stale (files changed) or corrupt cache is rebuilt with a one-line notice.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "experiments/data/dataset.h"

namespace sdd::exp {

// One image file of a split and its label.
struct ImageFile {
  std::string path;  // absolute (root-joined) path
  int64_t label = 0;
};

// The Tiny ImageNet directory under `dataset_root` ("" when neither candidate exists).
std::string tiny_imagenet_dir(const std::string& dataset_root);

// The sorted file list of a split (train, or val when !train) under the Tiny ImageNet dir `dir`, and
// the class names in label order. Throws UserError when the layout is not recognised or empty.
std::vector<ImageFile> list_tiny_imagenet(const std::string& dir, bool train, std::vector<std::string>* classes);

// Decodes `files` to RGB uint8 [N, H, W, 3] on all cores; every image must have the size of the first.
// Throws UserError naming the file when one is unreadable or not a valid JPEG.
std::vector<uint8_t> decode_jpegs(const std::vector<ImageFile>& files, int64_t* h, int64_t* w);

// Loads a split: from the cache when it matches the files, else decodes and rewrites the cache.
Dataset load_tiny_imagenet(bool train, const std::string& dataset_root);

// Number of JPEG images decoded by this process so far (tests use it to check cache reuse).
int64_t jpeg_images_decoded();

}  // namespace sdd::exp

// experiments/data/dataset.h — an in-memory image classification split (SPEC section 4) and the
// readers' entry point.
//
// Layout: images are uint8 [N, H, W, C] (row-major, channels last, as the reference's numpy arrays
// and PIL images), labels int64 [N]. The whole split lives in memory; the training loop moves it to
// the device once and augments there (DESIGN section 5).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace sdd::exp {

struct Dataset {
  std::string name;                  // "mnist", "fashion_mnist", "cifar10", "cifar100", "tiny_imagenet"
  bool train = true;                 // which split
  int64_t n = 0, h = 0, w = 0, c = 0;
  std::vector<uint8_t> images;       // [n, h, w, c]
  std::vector<int64_t> labels;       // [n], in [0, num_classes)
  std::vector<int64_t> original_labels;  // [n] labels as read from disk, in the current example order
  int64_t num_classes = 0;
  std::vector<float> mean, std;      // normalisation per channel, [c] each
  bool augmentable = false;          // CIFAR: flip + pad-crop unless do_not_augment; MNIST: never
  // How batches are built (augment.h). CIFAR/MNIST: pad_crop_flip, batch size = stored size.
  // Tiny ImageNet: train with augmentation = RandomResizedCrop(out, scale 0.08-1, ratio 3/4-4/3) + flip;
  // otherwise Resize(eval_resize, shorter side) + CenterCrop(out); stored 64x64, batches 32x32.
  enum class Augmentation { pad_crop_flip, resized_crop_flip };
  Augmentation augmentation = Augmentation::pad_crop_flip;
  int64_t out_h = 0, out_w = 0;      // batch image size; 0: the stored h, w
  int64_t eval_resize = 0;           // > 0: unaugmented batches are Resize(eval_resize) + CenterCrop(out)
  bool subsampled = false;           // set by subsample(); a second subsample is an error

  int64_t example_bytes() const { return h * w * c; }
  int64_t batch_h() const { return out_h > 0 ? out_h : h; }
  int64_t batch_w() const { return out_w > 0 ? out_w : w; }
  const uint8_t* example(int64_t i) const { return images.data() + i * example_bytes(); }
  // Keeps examples idx[0], idx[1], ... in that order (images, labels and original labels).
  void select(const std::vector<int64_t>& idx);
};

// Names accepted by load_dataset (the registry's dataset names).
const std::vector<std::string>& dataset_names();
bool is_known_dataset(const std::string& name);
int64_t dataset_num_classes(const std::string& name);

// The dataset root: `given` when non-empty, else $SPARSEDD_DATA when set, else ~/sparsedd_data.
std::string resolve_dataset_root(const std::string& given = "");

// Reads one split of a dataset from disk (no label transformations). Throws UserError naming the
// expected files and how to get them when they are missing or corrupt.
//   mnist          <root>/mnist[/MNIST/raw]/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]
//   fashion_mnist  <root>/fashion_mnist[/FashionMNIST/raw]/... or /usr/share/datasets/fashion-mnist
//   cifar10        <root>/cifar10/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin
//   cifar100       <root>/cifar100/cifar-100-binary/{train,test}.bin (fine labels)
//   tiny_imagenet  <root>/tiny_imagenet or <root>/tiny-imagenet-200 (alias tinyimagenet), official or
//                  class-folder layout, decoded once into a cache file (tiny_imagenet.h)
Dataset load_dataset(const std::string& name, bool train, const std::string& root);

}  // namespace sdd::exp

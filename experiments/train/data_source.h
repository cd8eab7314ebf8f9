// experiments/train/data_source.h — where a training phase gets its data (SPEC 4.1, 5, 6.3):
//   DataCache  each split read from disk once per process, and each transformed split (label noise,
//              subsample, blur, rotation, SPEC 5 order) built once per distinct dataset bundle;
//   PhaseData  the batches of one phase: the training order of epoch e (torch randperm seeded
//              data_order_seed + e, or a fresh draw from sdd::global_generator() per pass), batch b =
//              order[b*B : (b+1)*B] with the last partial batch kept, CIFAR augmentation keyed by
//              (seed, epoch, example index), normalised f32 NCHW images and i64 labels on the device,
//              plus the clean (pre-noise) labels for train_clean_accuracy. The test set is sequential
//              and never augmented.
// Device-resident data (DESIGN section 5): when the phase's device is CUDA and the dataset's batches
// are pad-crop-flip at the stored size (MNIST format, CIFAR), the DataCache uploads each split's uint8
// images [N,H,W,C] once per device; a batch then uploads only its index vector and its label slices
// and runs ops::crop_flip_batch there, bit-identical to exp::make_batch. Batches that need resampling
// (Tiny ImageNet: random resized crop, resize + centre crop) keep make_batch on the host plus a copy.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/device.h"
#include "engine/tensor.h"
#include "experiments/data/data_order.h"
#include "experiments/data/dataset.h"
#include "experiments/data/transforms.h"
#include "experiments/hparams/hparams.h"

namespace sdd::exp {

class DataCache {
 public:
  explicit DataCache(std::string dataset_root = "");   // resolved with resolve_dataset_root()
  const std::string& root() const { return root_; }

  // The split of `dataset` (a DatasetHparams bundle) after its transformations; built once per key
  // (dataset name + transformation fields), the raw split read from disk once per process.
  std::shared_ptr<const Dataset> split(const Hparams& dataset, bool train);
  static DataTransforms transforms_of(const Hparams& dataset);
  // Number of disk reads so far (tests check the caching).
  int64_t disk_reads() const { return disk_reads_; }

  // The split's images as u8 [N, H, W, C] on `device`, uploaded once per (split, device); the
  // split must come from split() (the cache keys on the Dataset object, which it keeps alive).
  Tensor device_images(const std::shared_ptr<const Dataset>& d, Device device);
  // Number of image uploads so far (tests check that a split is uploaded once).
  int64_t image_uploads() const { return image_uploads_; }

 private:
  std::string root_;
  std::map<std::string, std::shared_ptr<const Dataset>> raw_, transformed_;
  int64_t disk_reads_ = 0;
  struct DeviceImages {
    std::shared_ptr<const Dataset> owner;   // keeps the key's Dataset alive
    Device device;
    Tensor images;                          // u8 [N, H, W, C] on device
  };
  std::vector<DeviceImages> device_images_;
  int64_t image_uploads_ = 0;
};

// One batch on the phase's device.
struct PhaseBatch {
  Tensor x;         // f32 [B, C, H, W], normalised (augmented for training batches when enabled)
  Tensor y;         // i64 [B] training labels (noisy / random / rotation labels as configured)
  Tensor clean_y;   // i64 [B] original labels (training batches only)
  int64_t size = 0;
};

class PhaseData {
 public:
  // dataset: DatasetHparams bundle; aug_seed keys the augmentation draws.
  PhaseData(DataCache& cache, const Hparams& dataset, std::optional<int64_t> data_order_seed, Device device,
            uint64_t aug_seed);

  int64_t ipe() const { return order_.iterations_per_epoch(); }   // ceil(retained / B)
  int64_t batch_size() const { return batch_size_; }
  int64_t test_batches() const { return (test_->n + batch_size_ - 1) / batch_size_; }
  const Dataset& train() const { return *train_; }
  const Dataset& test() const { return *test_; }
  bool augmented() const { return augment_ && train_->augmentable; }
  bool seeded() const { return order_.mode() == DataOrder::Mode::seeded; }
  uint64_t aug_seed() const { return aug_seed_; }
  Device device() const { return device_; }

  // The training visiting order of one pass in `epoch` (consumes global_generator() when unseeded).
  std::vector<int64_t> train_order(int64_t epoch) const { return order_.epoch_order(epoch); }
  // Training batch `it` of `order`; `salt` varies the augmentation draws (0 for the update pass).
  PhaseBatch train_batch(const std::vector<int64_t>& order, int64_t it, int64_t epoch, uint64_t salt = 0) const;
  // The example indices of training batch `it` of `order` (order[it*B : (it+1)*B]).
  std::vector<int64_t> train_indices(const std::vector<int64_t>& order, int64_t it) const;
  // The training batch of examples `idx` (any rows of a batch: augmentation is keyed by example, so a
  // data-parallel replica's shard equals the same rows of the whole batch).
  PhaseBatch train_batch_of(const std::vector<int64_t>& idx, int64_t epoch, uint64_t salt = 0) const;
  // Test batch b (sequential, never augmented).
  PhaseBatch test_batch(int64_t b) const;

  // Whether batches are assembled on the device from the uploaded uint8 split (see the top of this
  // file). Default: the device is CUDA and device_assemblable(train()).
  bool device_batches() const { return device_batches_; }
  // Forces the choice; turning it on uploads the splits (through the DataCache) if not done yet.
  // Tests run the device path with Device::cpu(), where the cpu:: entry is the reference loop.
  // Returns the resulting choice: always false for datasets that are not device_assemblable.
  bool set_device_batches(bool on);
  // Batches of `d` are pad-crop-flip (or plain) at the stored size: one crop_flip_batch call.
  static bool device_assemblable(const Dataset& d);

 private:
  // Images, labels (and clean labels when `with_clean`) of examples idx of d, on device_, built
  // with ops::crop_flip_batch from the split's device images.
  PhaseBatch device_batch(const Dataset& d, const Tensor& images, const std::vector<int64_t>& idx, bool augment,
                          uint64_t seed, int64_t epoch, bool with_clean) const;

  DataCache* cache_;
  std::shared_ptr<const Dataset> train_, test_;
  DataOrder order_;
  int64_t batch_size_;
  bool augment_;
  Device device_;
  uint64_t aug_seed_;
  bool device_batches_ = false;
  Tensor train_images_, test_images_;   // u8 [N, H, W, C] on device_ when device_batches_
};

// ipe of a DatasetHparams bundle from the data actually loaded (equals iterations_per_epoch() for
// the real datasets; differs for small stand-in datasets in tests).
int64_t phase_iterations_per_epoch(DataCache& cache, const Hparams& dataset);

}  // namespace sdd::exp

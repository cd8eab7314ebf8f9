// experiments/train/data_source.cpp — dataset caching and the batches of a training phase.
#include "experiments/train/data_source.h"

#include <sstream>

#include "engine/errors.h"
#include "engine/ops.h"
#include "experiments/data/augment.h"
#include "experiments/pyfmt.h"

namespace sdd::exp {

namespace {
template <class T>
std::string opt_key(const std::optional<T>& v) {
  if (!v) return "None";
  std::ostringstream os;
  if constexpr (std::is_same_v<T, double>)
    os << py_float_repr(*v);
  else
    os << *v;
  return os.str();
}
}  // namespace

DataCache::DataCache(std::string dataset_root) : root_(resolve_dataset_root(dataset_root)) {}

DataTransforms DataCache::transforms_of(const Hparams& d) {
  DataTransforms t;
  t.transformation_seed = d.opt_int("transformation_seed");
  t.random_labels_fraction = d.opt_flt("random_labels_fraction");
  t.noisy_labels_fraction = d.opt_flt("noisy_labels_fraction");
  t.noisy_labels_type = d.opt_str("noisy_labels_type");
  t.subsample_fraction = d.opt_flt("subsample_fraction");
  t.unsupervised_labels = d.opt_str("unsupervised_labels");
  t.blur_factor = d.opt_int("blur_factor");
  return t;
}

std::shared_ptr<const Dataset> DataCache::split(const Hparams& dataset, bool train) {
  const std::string name = dataset.str("dataset_name");
  const DataTransforms t = transforms_of(dataset);
  const std::string raw_key = name + (train ? "|train" : "|test");
  std::ostringstream key;
  key << raw_key << "|seed=" << opt_key(t.transformation_seed) << "|rl=" << opt_key(t.random_labels_fraction)
      << "|nl=" << opt_key(t.noisy_labels_fraction) << "|nt=" << opt_key(t.noisy_labels_type)
      << "|ss=" << opt_key(t.subsample_fraction) << "|ul=" << opt_key(t.unsupervised_labels)
      << "|bl=" << opt_key(t.blur_factor);
  auto hit = transformed_.find(key.str());
  if (hit != transformed_.end()) return hit->second;
  auto raw = raw_.find(raw_key);
  if (raw == raw_.end()) {
    auto d = std::make_shared<const Dataset>(load_dataset(name, train, root_));
    ++disk_reads_;
    raw = raw_.emplace(raw_key, d).first;
  }
  auto d = std::make_shared<Dataset>(*raw->second);   // transforms rewrite a copy
  apply_transforms(*d, t);
  SDD_USER_CHECK(d->n > 0, "dataset " << name << " has no " << (train ? "training" : "test")
                                      << " examples after its transformations; check --subsample_fraction");
  std::shared_ptr<const Dataset> out = d;
  transformed_.emplace(key.str(), out);
  return out;
}

Tensor DataCache::device_images(const std::shared_ptr<const Dataset>& d, Device device) {
  SDD_CHECK(d != nullptr, "device_images: no dataset");
  for (const DeviceImages& e : device_images_)
    if (e.owner.get() == d.get() && e.device == device) return e.images;
  SDD_CHECK(static_cast<int64_t>(d->images.size()) == d->n * d->example_bytes(),
            "dataset " << d->name << ": " << d->images.size() << " image bytes for " << d->n << " examples");
  // u8 [N, H, W, C], one host-to-device copy for the whole split
  Tensor t = Tensor::from_vector(d->images, {d->n, d->h, d->w, d->c}, device);
  ++image_uploads_;
  device_images_.push_back({d, device, t});
  return t;
}

bool PhaseData::device_assemblable(const Dataset& d) {
  return d.augmentation == Dataset::Augmentation::pad_crop_flip && d.batch_h() == d.h && d.batch_w() == d.w &&
         d.c >= 1 && d.c <= 4 && static_cast<int64_t>(d.mean.size()) == d.c && static_cast<int64_t>(d.std.size()) == d.c;
}

bool PhaseData::set_device_batches(bool on) {
  device_batches_ = on && device_assemblable(*train_) && device_assemblable(*test_);
  if (device_batches_) {
    train_images_ = cache_->device_images(train_, device_);
    test_images_ = cache_->device_images(test_, device_);
  } else {
    train_images_ = Tensor();
    test_images_ = Tensor();
  }
  return device_batches_;
}

PhaseBatch PhaseData::device_batch(const Dataset& d, const Tensor& images, const std::vector<int64_t>& idx,
                                   bool augment, uint64_t seed, int64_t epoch, bool with_clean) const {
  const auto B = static_cast<int64_t>(idx.size());
  std::vector<int64_t> labels(idx.size()), clean(with_clean ? idx.size() : 0);
  for (size_t i = 0; i < idx.size(); ++i) {
    SDD_CHECK(idx[i] >= 0 && idx[i] < d.n, "example index " << idx[i] << " outside 0.." << d.n - 1);
    labels[i] = d.labels[static_cast<size_t>(idx[i])];
    if (with_clean) clean[i] = d.original_labels[static_cast<size_t>(idx[i])];
  }
  // Only the index vector and the label slices cross to the device; the images are already there.
  const Tensor dev_idx = Tensor::from_vector(idx, {B}, device_);   // i64 [B]
  PhaseBatch out;
  out.size = B;
  // x f32 [B, C, H, W] = normalise(flip + pad-crop when augmenting (images[idx]))
  out.x = ops::crop_flip_batch(images, dev_idx, AugmentSpec{}.pad, augment && d.augmentable, seed,
                               static_cast<uint64_t>(epoch), d.mean, d.std);
  out.y = Tensor::from_vector(labels, {B}, device_);
  if (with_clean) out.clean_y = Tensor::from_vector(clean, {B}, device_);
  return out;
}

PhaseData::PhaseData(DataCache& cache, const Hparams& dataset, std::optional<int64_t> data_order_seed, Device device,
                     uint64_t aug_seed)
    : cache_(&cache),
      train_(cache.split(dataset, true)),
      test_(cache.split(dataset, false)),
      order_(DataOrder::for_training(train_->n, dataset.integer("batch_size"), data_order_seed)),
      batch_size_(dataset.integer("batch_size")),
      augment_(!dataset.flag("do_not_augment")),
      device_(device),
      aug_seed_(aug_seed) {
  SDD_USER_CHECK(batch_size_ > 0, "batch_size " << batch_size_ << " must be positive");
  // Tiny ImageNet (resampled batches) stays on the host path even on CUDA: make_batch, then a copy.
  if (device_.is_cuda()) set_device_batches(true);
}

PhaseBatch PhaseData::train_batch(const std::vector<int64_t>& order, int64_t it, int64_t epoch, uint64_t salt) const {
  return train_batch_of(order_.batch(order, it), epoch, salt);
}

std::vector<int64_t> PhaseData::train_indices(const std::vector<int64_t>& order, int64_t it) const {
  return order_.batch(order, it);
}

PhaseBatch PhaseData::train_batch_of(const std::vector<int64_t>& idx, int64_t epoch, uint64_t salt) const {
  AugmentSpec spec;
  spec.enabled = augment_;
  spec.seed = aug_seed_ ^ (salt * 0x9E3779B97F4A7C15ull);
  if (device_batches_) return device_batch(*train_, train_images_, idx, spec.enabled, spec.seed, epoch, true);
  Batch b = make_batch(*train_, idx, spec, epoch);
  std::vector<int64_t> clean(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) clean[i] = train_->original_labels[static_cast<size_t>(idx[i])];
  PhaseBatch out;
  out.size = static_cast<int64_t>(idx.size());
  out.x = b.x.to(device_);
  out.y = b.y.to(device_);
  out.clean_y = Tensor::from_vector(clean, {out.size}, device_);
  return out;
}

PhaseBatch PhaseData::test_batch(int64_t b) const {
  const int64_t lo = b * batch_size_, hi = std::min(test_->n, lo + batch_size_);
  SDD_CHECK(lo < hi, "test batch " << b << " out of range");
  std::vector<int64_t> idx;
  for (int64_t i = lo; i < hi; ++i) idx.push_back(i);
  if (device_batches_) return device_batch(*test_, test_images_, idx, false, 0, 0, false);
  Batch bt = make_batch(*test_, idx, AugmentSpec{}, 0);
  PhaseBatch out;
  out.size = hi - lo;
  out.x = bt.x.to(device_);
  out.y = bt.y.to(device_);
  return out;
}

int64_t phase_iterations_per_epoch(DataCache& cache, const Hparams& dataset) {
  const int64_t b = dataset.integer("batch_size");
  SDD_USER_CHECK(b > 0, "batch_size " << b << " must be positive");
  return (cache.split(dataset, true)->n + b - 1) / b;
}

}  // namespace sdd::exp

// experiments/data/dataset.cpp — dataset registry (names, classes, normalisation), root resolution
// and the per-dataset file layouts.
#include "experiments/data/dataset.h"

#include <sys/stat.h>

#include <cstdlib>
#include <sstream>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/data/readers.h"
#include "experiments/data/tiny_imagenet.h"

namespace sdd::exp {

void Dataset::select(const std::vector<int64_t>& idx) {
  const int64_t eb = example_bytes();
  std::vector<uint8_t> im(idx.size() * static_cast<size_t>(eb));
  std::vector<int64_t> lab(idx.size()), orig(idx.size());
  for (size_t k = 0; k < idx.size(); ++k) {
    const int64_t i = idx[k];
    SDD_CHECK(i >= 0 && i < n, "select index " << i << " outside 0.." << n - 1);
    std::copy(example(i), example(i) + eb, im.data() + static_cast<int64_t>(k) * eb);
    lab[k] = labels[static_cast<size_t>(i)];
    orig[k] = original_labels.empty() ? lab[k] : original_labels[static_cast<size_t>(i)];
  }
  images.swap(im);
  labels.swap(lab);
  original_labels.swap(orig);
  n = static_cast<int64_t>(idx.size());
}

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"mnist", "fashion_mnist", "cifar10", "cifar100", "tiny_imagenet"};
  return names;
}

bool is_known_dataset(const std::string& name) {
  if (name == "tinyimagenet") return true;  // the presets' spelling (DESIGN 4 #16)
  for (const auto& n : dataset_names())
    if (n == name) return true;
  return false;
}

int64_t dataset_num_classes(const std::string& name) {
  if (name == "mnist" || name == "fashion_mnist" || name == "cifar10") return 10;
  if (name == "cifar100") return 100;
  if (name == "tiny_imagenet" || name == "tinyimagenet") return 200;
  if (name == "imagenet") return 1000;
  SDD_USER_FAIL("unknown dataset '" << name << "': use one of mnist, fashion_mnist, cifar10, cifar100, tiny_imagenet");
}

std::string resolve_dataset_root(const std::string& given) {
  if (!given.empty()) return io::expand_home(given);
  if (const char* env = std::getenv("SPARSEDD_DATA"); env != nullptr && *env != '\0') return io::expand_home(env);
  return io::expand_home("~/sparsedd_data");
}

namespace {

bool exists(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0;
}

// The first of `dirs` holding `stem` or `stem.gz`; "" when none does.
std::string find_file(const std::vector<std::string>& dirs, const std::string& stem) {
  for (const auto& d : dirs) {
    if (exists(d + "/" + stem)) return d + "/" + stem;
    if (exists(d + "/" + stem + ".gz")) return d + "/" + stem + ".gz";
  }
  return "";
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::ostringstream os;
  for (size_t i = 0; i < v.size(); ++i) os << (i ? sep : "") << v[i];
  return os.str();
}

Dataset load_idx(const std::string& name, bool train, const std::string& root) {
  std::vector<std::string> dirs;
  std::string how;
  if (name == "mnist") {
    dirs = {root + "/mnist/MNIST/raw", root + "/mnist/raw", root + "/mnist"};
    how = "download them from https://ossci-datasets.s3.amazonaws.com/mnist/ (or let torchvision download MNIST "
          "into " + root + "/mnist)";
  } else {
    dirs = {root + "/fashion_mnist/FashionMNIST/raw", root + "/fashion_mnist/raw", root + "/fashion_mnist",
            "/usr/share/datasets/fashion-mnist"};
    how = "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or put the "
          "four Fashion-MNIST IDX files in " + root + "/fashion_mnist";
  }
  const std::string pre = train ? "train" : "t10k";
  const std::string img_stem = pre + "-images-idx3-ubyte", lab_stem = pre + "-labels-idx1-ubyte";
  const std::string img = find_file(dirs, img_stem), lab = find_file(dirs, lab_stem);
  SDD_USER_CHECK(!img.empty() && !lab.empty(),
                 "dataset " << name << ": " << (img.empty() ? img_stem : lab_stem) << "[.gz] not found in any of "
                            << join(dirs, ", ") << "; " << how << ", or point --dataset_root / SPARSEDD_DATA at them");
  Dataset d;
  d.name = name;
  d.train = train;
  d.num_classes = 10;
  d.images = read_idx_images(img, &d.n, &d.h, &d.w);
  d.c = 1;
  d.labels = read_idx_labels(lab, d.num_classes);
  SDD_USER_CHECK(static_cast<int64_t>(d.labels.size()) == d.n,
                 "dataset " << name << ": " << img << " holds " << d.n << " images but " << lab << " holds "
                            << d.labels.size() << " labels; the files do not belong together, download them again");
  d.original_labels = d.labels;
  d.mean = {0.1307f};  // the reference uses the MNIST constants for every MNIST-format dataset
  d.std = {0.3081f};
  d.augmentable = false;
  return d;
}

Dataset load_cifar(const std::string& name, bool train, const std::string& root) {
  const bool c10 = name == "cifar10";
  const std::string dir = c10 ? root + "/cifar10/cifar-10-batches-bin" : root + "/cifar100/cifar-100-binary";
  const std::string pydir = c10 ? root + "/cifar10/cifar-10-batches-py" : root + "/cifar100/cifar-100-python";
  const std::string url = c10 ? "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
                              : "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz";
  std::vector<std::string> files;
  if (c10) {
    if (train)
      for (int b = 1; b <= 5; ++b) files.push_back(dir + "/data_batch_" + std::to_string(b) + ".bin");
    else
      files.push_back(dir + "/test_batch.bin");
  } else {
    files.push_back(dir + (train ? "/train.bin" : "/test.bin"));
  }
  for (const auto& f : files) {
    if (exists(f)) continue;
    SDD_USER_CHECK(!exists(pydir), "dataset " << name << ": found only the python-pickle version " << pydir
                                              << ", sparsedd reads the binary version; download " << url
                                              << " and extract it into " << root << "/" << name);
    SDD_USER_FAIL("dataset " << name << ": " << f << " not found; download " << url << " and extract it into " << root
                             << "/" << name << ", or point --dataset_root / SPARSEDD_DATA at the folder holding "
                             << name << "/");
  }
  Dataset d;
  d.name = name;
  d.train = train;
  d.num_classes = c10 ? 10 : 100;
  for (const auto& f : files) read_cifar_bin(f, c10 ? 1 : 2, d.num_classes, &d.images, &d.labels);
  d.n = static_cast<int64_t>(d.labels.size());
  d.h = d.w = 32;
  d.c = 3;
  d.original_labels = d.labels;
  d.mean = {0.485f, 0.456f, 0.406f};  // ImageNet constants, as the reference (SPEC 13 #25)
  d.std = {0.229f, 0.224f, 0.225f};
  d.augmentable = true;
  return d;
}

}  // namespace

Dataset load_dataset(const std::string& name, bool train, const std::string& root) {
  if (name == "mnist" || name == "fashion_mnist") return load_idx(name, train, root);
  if (name == "cifar10" || name == "cifar100") return load_cifar(name, train, root);
  if (name == "tiny_imagenet" || name == "tinyimagenet") return load_tiny_imagenet(train, root);
  if (name == "imagenet")
    SDD_USER_FAIL("dataset imagenet is not registered (as in the reference): use mnist, fashion_mnist, cifar10, "
                  "cifar100 or tiny_imagenet");
  SDD_USER_FAIL("unknown dataset '" << name << "': use one of mnist, fashion_mnist, cifar10, cifar100, tiny_imagenet");
}

}  // namespace sdd::exp

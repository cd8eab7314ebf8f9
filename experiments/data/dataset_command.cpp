// experiments/data/dataset_command.cpp — `sparsedd dataset [flags]`: loads a dataset, applies the
// training-set transformations exactly as a run would, and prints a summary of the train and test
// splits (sizes, class histogram, changed labels, first labels). Lets a user check label noise
// against the reference without training anything.
#include "experiments/data/dataset_command.h"

#include <iostream>

#include "engine/errors.h"
#include "experiments/data/dataset.h"
#include "experiments/data/dataset_summary.h"
#include "experiments/data/download.h"
#include "experiments/data/transforms.h"

namespace sdd::exp {

namespace {

const char* kUsage =
    "usage: sparsedd dataset NAME (or --dataset_name=NAME) [--dataset_root=DIR] [--transformation_seed=S]\n"
    "         [--random_labels_fraction=F | --noisy_labels_type=symmetric|pairflip|asymmetric "
    "--noisy_labels_fraction=F]\n"
    "         [--subsample_fraction=F] [--unsupervised_labels=rotation] [--blur_factor=K] [--download]\n"
    "Prints the train and test splits after the training-set transformations of a run.\n"
    "--download fetches the CIFAR-10/100 binary archives (MD5-checked, resumable) into the dataset root first.\n";

double to_double(const std::string& flag, const std::string& v) {
  try {
    size_t pos = 0;
    const double x = std::stod(v, &pos);
    if (pos == v.size()) return x;
  } catch (const std::exception&) {
  }
  SDD_USER_FAIL("--" << flag << " expects a number, got '" << v << "'");
}

int64_t to_int(const std::string& flag, const std::string& v) {
  try {
    size_t pos = 0;
    const long long x = std::stoll(v, &pos);
    if (pos == v.size()) return x;
  } catch (const std::exception&) {
  }
  SDD_USER_FAIL("--" << flag << " expects an integer, got '" << v << "'");
}

}  // namespace

int dataset_command(const std::vector<std::string>& args) {
  std::string name, root;
  bool download = false;
  DataTransforms t;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a.rfind("--", 0) != 0 && name.empty()) {  // the positional NAME
      name = a;
      continue;
    }
    SDD_USER_CHECK(a.rfind("--", 0) == 0, "unexpected argument '" << a << "' for sparsedd dataset: flags look like --name=value");
    if (a == "--download") {
      download = true;
      continue;
    }
    std::string key = a.substr(2), val;
    const size_t eq = key.find('=');
    if (eq != std::string::npos) {
      val = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else {
      SDD_USER_CHECK(i + 1 < args.size(), "flag --" << key << " needs a value: write --" << key << "=VALUE");
      val = args[++i];
    }
    const bool none = val == "None";
    if (key == "dataset_name") {
      name = val;
    } else if (key == "dataset_root") {
      root = val;
    } else if (key == "transformation_seed") {
      if (!none) t.transformation_seed = to_int(key, val);
    } else if (key == "random_labels_fraction") {
      if (!none) t.random_labels_fraction = to_double(key, val);
    } else if (key == "noisy_labels_fraction") {
      if (!none) t.noisy_labels_fraction = to_double(key, val);
    } else if (key == "noisy_labels_type") {
      if (!none) t.noisy_labels_type = val;
    } else if (key == "subsample_fraction") {
      if (!none) t.subsample_fraction = to_double(key, val);
    } else if (key == "unsupervised_labels") {
      if (!none) t.unsupervised_labels = val;
    } else if (key == "download") {
      download = val == "True" || val == "true" || val == "1";
    } else if (key == "blur_factor") {
      if (!none) t.blur_factor = to_int(key, val);
    } else {
      SDD_USER_FAIL("unknown flag --" << key << " for sparsedd dataset; run 'sparsedd dataset --help' for the list");
    }
  }
  SDD_USER_CHECK(!name.empty(), "sparsedd dataset needs a dataset name: sparsedd dataset NAME (one of mnist, fashion_mnist, cifar10, cifar100, tiny_imagenet)");
  SDD_USER_CHECK(is_known_dataset(name), "unknown dataset '" << name << "': use one of mnist, fashion_mnist, cifar10, cifar100, tiny_imagenet");
  const std::string r = resolve_dataset_root(root);
  if (download) {
#ifdef SDD_HAVE_DOWNLOAD
    download_dataset(name, r);
#else
    SDD_USER_FAIL("--download needs a build with libcurl and libarchive (apt-get install libcurl4-openssl-dev "
                  "libarchive-dev, then rebuild); or download the dataset yourself");
#endif
  }
  for (bool train : {true, false}) {
    Dataset d = load_dataset(name, train, r);
    Dataset as_train = d;
    apply_transforms(d, t);
    std::cout << format_summary(summarize(d));
    const bool relabels = t.random_labels_fraction || t.noisy_labels_fraction;
    if (!train && relabels) {
      // Training never relabels the test split (only rotation labels touch it). The original's
      // dataset tests apply the same noise to the test labels to check it; show that count too.
      as_train.train = true;
      DataTransforms labels_only = t;
      labels_only.subsample_fraction.reset();
      labels_only.blur_factor.reset();
      apply_transforms(as_train, labels_only);
      std::cout << "(the same label transformation applied to the test labels would leave "
                << summarize(as_train).n - summarize(as_train).changed << " unchanged; training never applies it)\n";
    }
  }
  return 0;
}

}  // namespace sdd::exp

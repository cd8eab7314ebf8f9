// experiments/data/tiny_imagenet.cpp — Tiny ImageNet listing, parallel JPEG decoding and the decoded
// cache (see tiny_imagenet.h for the layouts and the cache format).
#include "experiments/data/tiny_imagenet.h"

#include <sys/stat.h>
#include <turbojpeg.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "engine/io/checksum.h"
#include "experiments/md5.h"

namespace fs = std::filesystem;

namespace sdd::exp {

namespace {

std::atomic<int64_t> g_decoded{0};

constexpr char kMagic[8] = {'S', 'D', 'D', 'I', 'M', 'G', 'C', '1'};
constexpr uint32_t kVersion = 1;

struct CacheHeader {
  char magic[8];
  uint32_t version;
  uint32_t reserved;
  int64_t n, h, w, c;
  uint8_t list_md5[16];
  uint64_t payload_hash;
};

bool is_dir(const std::string& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

bool ends_with_jpeg(const std::string& name) {
  if (name.size() < 4) return false;
  std::string tail = name.substr(name.size() - 4);
  for (auto& ch : tail) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return tail == "jpeg";
}

std::vector<std::string> sorted_subdirs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted_jpegs(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && ends_with_jpeg(name)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

// Official layout: train/<wnid>/images exists for the first class folder.
bool official_layout(const std::string& dir) {
  if (io::file_exists(dir + "/wnids.txt")) return true;
  const auto cls = sorted_subdirs(dir + "/train");
  return !cls.empty() && is_dir(dir + "/train/" + cls.front() + "/images");
}

std::vector<std::string> official_classes(const std::string& dir) {
  std::vector<std::string> cls;
  if (io::file_exists(dir + "/wnids.txt")) {
    std::istringstream in(io::read_file(dir + "/wnids.txt"));
    for (std::string line; std::getline(in, line);)
      if (!trim(line).empty()) cls.push_back(trim(line));
    std::sort(cls.begin(), cls.end());
  } else {
    cls = sorted_subdirs(dir + "/train");
  }
  return cls;
}

// "relative path \t label \t size \t mtime" per file plus the stats of the files labels come from.
std::string list_signature(const std::string& dir, bool train, const std::vector<ImageFile>& files) {
  std::ostringstream os;
  const auto stat_of = [](const std::string& p) {
    struct stat st {};
    std::ostringstream s;
    if (::stat(p.c_str(), &st) == 0)
      s << st.st_size << '\t' << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec;
    else
      s << "missing";
    return s.str();
  };
  for (const auto& f : files) os << f.path.substr(dir.size()) << '\t' << f.label << '\t' << stat_of(f.path) << '\n';
  os << "/wnids.txt\t" << stat_of(dir + "/wnids.txt") << '\n';
  if (!train) os << "/val/val_annotations.txt\t" << stat_of(dir + "/val/val_annotations.txt") << '\n';
  return os.str();
}

// The payload checksum: labels and images hashed separately, then combined.
uint64_t split_hash(const std::vector<int64_t>& labels, const std::vector<uint8_t>& images) {
  const uint64_t a = io::content_hash(reinterpret_cast<const uint8_t*>(labels.data()), labels.size() * sizeof(int64_t));
  return a * 0x9E3779B97F4A7C15ull + io::content_hash(images.data(), images.size());
}

std::string cache_path(const std::string& dir, bool train) {
  return dir + "/.sparsedd_cache_" + (train ? "train" : "val") + ".bin";
}

// Reads a cache that matches `list_md5`; returns false (after a one-line notice when a cache file
// exists but is stale or corrupt) when it cannot be used.
bool read_cache(const std::string& path, const uint8_t list_md5[16], Dataset* d) {
  if (!io::file_exists(path)) return false;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  const auto notice = [&](const char* why) {
    std::cerr << "sparsedd: tiny_imagenet cache " << path << " is " << why << "; rebuilding it\n";
    return false;
  };
  if (!f) return notice("unreadable");
  CacheHeader hd{};
  if (std::fread(&hd, sizeof(hd), 1, f.get()) != 1 || std::memcmp(hd.magic, kMagic, 8) != 0 || hd.version != kVersion)
    return notice("corrupt or from another version");
  if (std::memcmp(hd.list_md5, list_md5, 16) != 0) return notice("stale (the image files changed)");
  if (hd.n <= 0 || hd.h <= 0 || hd.w <= 0 || hd.c != 3 || hd.n > (int64_t{1} << 32)) return notice("corrupt");
  const size_t lab_bytes = static_cast<size_t>(hd.n) * sizeof(int64_t);
  const size_t img_bytes = static_cast<size_t>(hd.n * hd.h * hd.w * hd.c);
  std::vector<int64_t> labels(static_cast<size_t>(hd.n));
  std::vector<uint8_t> images(img_bytes);
  if (std::fread(labels.data(), 1, lab_bytes, f.get()) != lab_bytes ||
      std::fread(images.data(), 1, img_bytes, f.get()) != img_bytes || std::fgetc(f.get()) != EOF)
    return notice("truncated or corrupt");
  if (split_hash(labels, images) != hd.payload_hash) return notice("corrupt (checksum mismatch)");
  d->n = hd.n;
  d->h = hd.h;
  d->w = hd.w;
  d->c = hd.c;
  d->labels.swap(labels);
  d->images.swap(images);
  return true;
}

void write_cache(const std::string& path, const uint8_t list_md5[16], const Dataset& d) {
  CacheHeader hd{};
  std::memcpy(hd.magic, kMagic, 8);
  hd.version = kVersion;
  hd.n = d.n;
  hd.h = d.h;
  hd.w = d.w;
  hd.c = d.c;
  std::memcpy(hd.list_md5, list_md5, 16);
  hd.payload_hash = split_hash(d.labels, d.images);
  try {
    io::write_file_atomic(path, [&](io::AtomicFile& f) {
      f.write(&hd, sizeof(hd));
      f.write(d.labels.data(), d.labels.size() * sizeof(int64_t));
      f.write(d.images.data(), d.images.size());
    });
  } catch (const UserError& e) {
    std::cerr << "sparsedd: could not write the tiny_imagenet cache (" << e.what()
              << "); the images will be decoded again next time\n";
  }
}

}  // namespace

std::string tiny_imagenet_dir(const std::string& dataset_root) {
  for (const char* sub : {"/tiny_imagenet", "/tiny-imagenet-200"})
    if (is_dir(dataset_root + sub)) return dataset_root + sub;
  return "";
}

std::vector<ImageFile> list_tiny_imagenet(const std::string& dir, bool train, std::vector<std::string>* classes) {
  std::vector<ImageFile> files;
  const std::string split = dir + (train ? "/train" : "/val");
  SDD_USER_CHECK(is_dir(split), "dataset tiny_imagenet: folder " << split << " not found; expected train/ and val/ "
                                                                  "under " << dir);
  std::vector<std::string> cls;
  if (official_layout(dir)) {
    cls = official_classes(dir);
    if (train) {
      for (size_t k = 0; k < cls.size(); ++k) {
        const std::string cdir = split + "/" + cls[k] + "/images";
        SDD_USER_CHECK(is_dir(cdir), "dataset tiny_imagenet: class folder " << cdir << " not found (listed in "
                                                                           << dir << "/wnids.txt)");
        for (const auto& name : sorted_jpegs(cdir)) files.push_back({cdir + "/" + name, static_cast<int64_t>(k)});
      }
    } else {
      const std::string ann = split + "/val_annotations.txt";
      SDD_USER_CHECK(io::file_exists(ann) && is_dir(split + "/images"),
                     "dataset tiny_imagenet: official layout needs " << ann << " and " << split
                                                                     << "/images; re-extract the archive");
      std::map<std::string, int64_t> label_of_class;
      for (size_t k = 0; k < cls.size(); ++k) label_of_class[cls[k]] = static_cast<int64_t>(k);
      std::map<std::string, int64_t> label_of_file;
      std::istringstream in(io::read_file(ann));
      for (std::string line; std::getline(in, line);) {
        if (trim(line).empty()) continue;
        std::istringstream ls(line);
        std::string file, wnid;
        std::getline(ls, file, '\t');
        std::getline(ls, wnid, '\t');
        const auto it = label_of_class.find(trim(wnid));
        SDD_USER_CHECK(it != label_of_class.end(), "dataset tiny_imagenet: " << ann << " maps " << file << " to class '"
                                                                            << wnid << "', which is not a train class");
        label_of_file[trim(file)] = it->second;
      }
      for (const auto& name : sorted_jpegs(split + "/images")) {
        const auto it = label_of_file.find(name);
        SDD_USER_CHECK(it != label_of_file.end(),
                       "dataset tiny_imagenet: " << split << "/images/" << name << " has no line in " << ann);
        files.push_back({split + "/images/" + name, it->second});
      }
    }
  } else {
    cls = sorted_subdirs(split);
    for (size_t k = 0; k < cls.size(); ++k)
      for (const auto& name : sorted_jpegs(split + "/" + cls[k]))
        files.push_back({split + "/" + cls[k] + "/" + name, static_cast<int64_t>(k)});
  }
  SDD_USER_CHECK(!files.empty(), "dataset tiny_imagenet: no *.jpeg images found under " << split
                                                                                       << "; expected class folders");
  SDD_USER_CHECK(cls.size() <= 200, "dataset tiny_imagenet: " << split << " has " << cls.size()
                                                              << " classes, at most 200 are allowed");
  if (classes != nullptr) *classes = cls;
  return files;
}

std::vector<uint8_t> decode_jpegs(const std::vector<ImageFile>& files, int64_t* h, int64_t* w) {
  SDD_CHECK(!files.empty(), "decode_jpegs needs at least one file");
  const auto read_all = [](const std::string& path, std::vector<unsigned char>* buf) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    buf->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return true;
  };
  // Size from the first image.
  {
    std::vector<unsigned char> buf;
    SDD_USER_CHECK(read_all(files[0].path, &buf), "dataset tiny_imagenet: cannot read " << files[0].path);
    tjhandle tj = tjInitDecompress();
    int iw = 0, ih = 0, sub = 0, cs = 0;
    const int rc = tjDecompressHeader3(tj, buf.data(), static_cast<unsigned long>(buf.size()), &iw, &ih, &sub, &cs);
    tjDestroy(tj);
    SDD_USER_CHECK(rc == 0, "dataset tiny_imagenet: " << files[0].path << " is not a valid JPEG; delete or replace it");
    *h = ih;
    *w = iw;
  }
  const int64_t n = static_cast<int64_t>(files.size()), eb = *h * *w * 3;
  std::vector<uint8_t> images(static_cast<size_t>(n * eb));
  std::vector<std::string> errors(static_cast<size_t>(n));
#pragma omp parallel
  {
    tjhandle tj = tjInitDecompress();
    std::vector<unsigned char> buf;
#pragma omp for schedule(dynamic, 64)
    for (int64_t i = 0; i < n; ++i) {
      const std::string& path = files[static_cast<size_t>(i)].path;
      std::string& err = errors[static_cast<size_t>(i)];
      if (!read_all(path, &buf)) {
        err = "cannot read " + path;
        continue;
      }
      int iw = 0, ih = 0, sub = 0, cs = 0;
      if (tj == nullptr ||
          tjDecompressHeader3(tj, buf.data(), static_cast<unsigned long>(buf.size()), &iw, &ih, &sub, &cs) != 0) {
        err = path + " is not a valid JPEG; delete or replace it";
        continue;
      }
      if (ih != *h || iw != *w) {
        err = path + " is " + std::to_string(iw) + "x" + std::to_string(ih) + ", expected " + std::to_string(*w) + "x" +
              std::to_string(*h) + " like " + files[0].path;
        continue;
      }
      if (tjDecompress2(tj, buf.data(), static_cast<unsigned long>(buf.size()), images.data() + i * eb, iw, 0, ih,
                        TJPF_RGB, 0) != 0) {
        err = path + " is a corrupt JPEG (" + tjGetErrorStr2(tj) + "); delete or replace it";
        continue;
      }
      g_decoded.fetch_add(1, std::memory_order_relaxed);
    }
    if (tj != nullptr) tjDestroy(tj);
  }
  for (const auto& e : errors) SDD_USER_CHECK(e.empty(), "dataset tiny_imagenet: " << e);
  return images;
}

Dataset load_tiny_imagenet(bool train, const std::string& dataset_root) {
  const std::string dir = tiny_imagenet_dir(dataset_root);
  SDD_USER_CHECK(!dir.empty(), "dataset tiny_imagenet: neither " << dataset_root << "/tiny_imagenet nor " << dataset_root
                                << "/tiny-imagenet-200 exists; download http://cs231n.stanford.edu/tiny-imagenet-200.zip, "
                                   "unzip it into " << dataset_root << ", or point --dataset_root / SPARSEDD_DATA at it");
  const std::vector<ImageFile> files = list_tiny_imagenet(dir, train, nullptr);
  uint8_t list_md5[16];
  const std::string sig = list_signature(dir, train, files);
  md5_digest(sig.data(), sig.size(), list_md5);

  Dataset d;
  const std::string cache = cache_path(dir, train);
  if (!read_cache(cache, list_md5, &d)) {
    d.images = decode_jpegs(files, &d.h, &d.w);
    d.c = 3;
    d.n = static_cast<int64_t>(files.size());
    d.labels.resize(files.size());
    for (size_t i = 0; i < files.size(); ++i) d.labels[i] = files[i].label;
    write_cache(cache, list_md5, d);
  }
  d.name = "tiny_imagenet";
  d.train = train;
  d.num_classes = 200;
  d.original_labels = d.labels;
  d.mean = {0.485f, 0.456f, 0.406f};  // ImageNet constants
  d.std = {0.229f, 0.224f, 0.225f};
  d.augmentable = true;
  d.augmentation = Dataset::Augmentation::resized_crop_flip;
  d.out_h = d.out_w = 32;
  d.eval_resize = 45;
  return d;
}

int64_t jpeg_images_decoded() { return g_decoded.load(); }

}  // namespace sdd::exp

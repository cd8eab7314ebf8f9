// experiments/data/readers.cpp — IDX and CIFAR-binary readers (zlib for .gz files).
#include "experiments/data/readers.h"

#include <zlib.h>

#include <cstring>

#include "engine/errors.h"

namespace sdd::exp {

std::vector<uint8_t> read_maybe_gzipped(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");  // reads plain files unchanged
  SDD_USER_CHECK(f != nullptr, "cannot open dataset file " << path << ": check the path and its permissions");
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 20);
  for (;;) {
    const int got = gzread(f, buf.data(), static_cast<unsigned>(buf.size()));
    if (got < 0) {
      int errnum = 0;
      const std::string msg = gzerror(f, &errnum);
      gzclose(f);
      SDD_USER_FAIL("dataset file " << path << " is corrupt (" << msg << "): delete it and download it again");
    }
    if (got == 0) break;
    out.insert(out.end(), buf.begin(), buf.begin() + got);
  }
  gzclose(f);
  return out;
}

namespace {

uint32_t be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

}  // namespace

std::vector<uint8_t> read_idx_images(const std::string& path, int64_t* n, int64_t* rows, int64_t* cols) {
  std::vector<uint8_t> raw = read_maybe_gzipped(path);
  SDD_USER_CHECK(raw.size() >= 16, "dataset file " << path << " is truncated (" << raw.size()
                                                     << " bytes, no IDX header): delete it and download it again");
  const uint32_t magic = be32(raw.data());
  SDD_USER_CHECK(magic == 0x00000803u, "dataset file " << path << " is not an IDX image file (magic 0x" << std::hex
                                                         << magic << std::dec
                                                         << ", expected 0x803): check that it is the images file");
  *n = be32(raw.data() + 4);
  *rows = be32(raw.data() + 8);
  *cols = be32(raw.data() + 12);
  const uint64_t want = static_cast<uint64_t>(*n) * static_cast<uint64_t>(*rows) * static_cast<uint64_t>(*cols);
  SDD_USER_CHECK(raw.size() - 16 >= want, "dataset file " << path << " is truncated (" << raw.size() - 16
                                                            << " pixel bytes, header says " << want
                                                            << "): delete it and download it again");
  return std::vector<uint8_t>(raw.begin() + 16, raw.begin() + 16 + static_cast<std::ptrdiff_t>(want));
}

std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes) {
  std::vector<uint8_t> raw = read_maybe_gzipped(path);
  SDD_USER_CHECK(raw.size() >= 8, "dataset file " << path << " is truncated (" << raw.size()
                                                    << " bytes, no IDX header): delete it and download it again");
  const uint32_t magic = be32(raw.data());
  SDD_USER_CHECK(magic == 0x00000801u, "dataset file " << path << " is not an IDX label file (magic 0x" << std::hex
                                                         << magic << std::dec
                                                         << ", expected 0x801): check that it is the labels file");
  const uint64_t n = be32(raw.data() + 4);
  SDD_USER_CHECK(raw.size() - 8 >= n, "dataset file " << path << " is truncated (" << raw.size() - 8
                                                        << " labels, header says " << n
                                                        << "): delete it and download it again");
  std::vector<int64_t> labels(n);
  for (uint64_t i = 0; i < n; ++i) {
    labels[i] = raw[8 + i];
    SDD_USER_CHECK(labels[i] < num_classes, "dataset file " << path << " holds label " << labels[i] << " at index " << i
                                                              << ", outside 0.." << num_classes - 1
                                                              << ": the file is corrupt or from another dataset");
  }
  return labels;
}

void read_cifar_bin(const std::string& path, int label_bytes, int64_t num_classes, std::vector<uint8_t>* images_hwc,
                    std::vector<int64_t>* labels) {
  constexpr int64_t kPix = 32 * 32, kImg = 3 * kPix;
  const std::vector<uint8_t> raw = read_maybe_gzipped(path);
  const int64_t rec = label_bytes + kImg;
  SDD_USER_CHECK(!raw.empty() && static_cast<int64_t>(raw.size()) % rec == 0,
                 "dataset file " << path << " has " << raw.size() << " bytes, not a whole number of " << rec
                                 << "-byte CIFAR records: it is truncated or not the binary version; download it again");
  const int64_t n = static_cast<int64_t>(raw.size()) / rec;
  const size_t base = images_hwc->size();
  images_hwc->resize(base + static_cast<size_t>(n * kImg));
  uint8_t* out = images_hwc->data() + base;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* r = raw.data() + i * rec;
    const int64_t label = r[label_bytes - 1];
    SDD_USER_CHECK(label < num_classes, "dataset file " << path << " holds label " << label << " in record " << i
                                                        << ", outside 0.." << num_classes - 1
                                                        << ": the file is corrupt or from another dataset");
    labels->push_back(label);
    const uint8_t* chw = r + label_bytes;  // [3, 32, 32]
    uint8_t* hwc = out + i * kImg;         // [32, 32, 3]
    for (int64_t p = 0; p < kPix; ++p)
      for (int64_t ch = 0; ch < 3; ++ch) hwc[p * 3 + ch] = chw[ch * kPix + p];
  }
}

}  // namespace sdd::exp

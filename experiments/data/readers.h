// experiments/data/readers.h — raw file readers behind load_dataset: IDX files (MNIST format,
// gzipped or plain) and the CIFAR binary versions. Each throws UserError naming the file when it is
// missing, has a wrong magic number, is truncated or holds an out-of-range label.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdd::exp {

// Whole file contents; ".gz" files (or any gzip stream) are inflated transparently.
std::vector<uint8_t> read_maybe_gzipped(const std::string& path);

// IDX images (magic 0x00000803): uint8 [n, rows, cols]; sets n, rows, cols.
std::vector<uint8_t> read_idx_images(const std::string& path, int64_t* n, int64_t* rows, int64_t* cols);
// IDX labels (magic 0x00000801): int64 [n], each checked to be < num_classes.
std::vector<int64_t> read_idx_labels(const std::string& path, int64_t num_classes);

// CIFAR binary records: `label_bytes` leading label bytes (1 for CIFAR-10; 2 for CIFAR-100: coarse,
// fine — the last one is used), then 3072 bytes of CHW 32x32 pixels. Appends HWC images and labels.
void read_cifar_bin(const std::string& path, int label_bytes, int64_t num_classes, std::vector<uint8_t>* images_hwc,
                    std::vector<int64_t>* labels);

}  // namespace sdd::exp

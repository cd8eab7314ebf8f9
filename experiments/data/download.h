// experiments/data/download.h — `--download`: fetch the official CIFAR binary archives over HTTPS,
// resumably (HTTP Range on a `.part` file), check their MD5, and unpack them with libarchive into the
// dataset root. Compiled only with SDD_HAVE_DOWNLOAD (libcurl and libarchive found).
//
// Safety: the archive only takes its final name after its MD5 matched; extraction goes into a
// temporary folder beside the target and each top-level entry is renamed into place afterwards, so a
// killed process never leaves a truncated archive or a half-extracted folder that looks complete.
#pragma once
#include <string>

namespace sdd::exp {

struct DownloadSpec {
  std::string url;       // full URL of the archive
  std::string md5;       // expected lowercase hex MD5 of the archive
  std::string archive;   // local archive path; the partial download is `archive + ".part"`
  std::string dest_dir;  // where the archive's top-level entries end up
};

// The base URL: $SPARSEDD_DOWNLOAD_URL when set (tests), else https://www.cs.toronto.edu/~kriz.
std::string download_base_url();

// Downloads spec.url to spec.archive unless it is already there with the right MD5. Resumes a
// `.part` left by an interrupted run. Throws UserError on network errors (keeping the .part to resume)
// and on an MD5 mismatch (deleting the .part).
void download_file(const DownloadSpec& spec);

// Extracts `archive` (any format/filter libarchive reads) into dest_dir through a temporary folder.
// Entries with absolute paths or ".." are rejected. Existing top-level entries of the same name are replaced.
void extract_archive(const std::string& archive, const std::string& dest_dir);

// download_file + extract_archive.
void fetch_and_extract(const DownloadSpec& spec);

// `--download` for a dataset: cifar10 (cifar-10-binary.tar.gz, MD5 c32a1d4ab5d03f1284b67883e8d87530)
// and cifar100 (cifar-100-binary.tar.gz, MD5 03b5dce01913d631647c71ecec9e9cb8) into <root>/<name>.
// Returns false (and does nothing) when the binary files are already there. Other datasets: UserError.
bool download_dataset(const std::string& name, const std::string& root);

}  // namespace sdd::exp

// experiments/data/download.cpp — resumable, MD5-checked archive download (libcurl) and safe
// extraction (libarchive); see download.h. Empty unless SDD_HAVE_DOWNLOAD is defined.
#ifdef SDD_HAVE_DOWNLOAD
#include "experiments/data/download.h"

#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <vector>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/md5.h"

namespace fs = std::filesystem;

namespace sdd::exp {

namespace {

std::string file_md5(const std::string& path) { return md5_hex(io::read_file(path)); }

int64_t file_size(const std::string& path) {
  std::error_code ec;
  const auto n = fs::file_size(path, ec);
  return ec ? -1 : static_cast<int64_t>(n);
}

struct Sink {
  FILE* f = nullptr;
  CURL* curl = nullptr;
  int64_t offset = 0;   // bytes already in the .part when the request started
  bool checked = false; // whether the response status was looked at
  bool failed = false;
  long status = 0;
};

size_t write_cb(char* data, size_t size, size_t nmemb, void* user) {
  auto* s = static_cast<Sink*>(user);
  if (!s->checked) {
    s->checked = true;
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status >= 400) {
      s->failed = true;
      return 0;
    }
    if (s->offset > 0 && s->status == 200) {  // the server ignored the Range: start over
      if (std::fflush(s->f) != 0 || ::ftruncate(fileno(s->f), 0) != 0 || std::fseek(s->f, 0, SEEK_SET) != 0) return 0;
      s->offset = 0;
    }
  }
  return std::fwrite(data, size, nmemb, s->f) * size == size * nmemb ? size * nmemb : 0;
}

bool unsafe_entry(const std::string& p) {
  if (p.empty() || p[0] == '/') return true;
  for (const auto& part : fs::path(p))
    if (part == "..") return true;
  return false;
}

}  // namespace

std::string download_base_url() {
  if (const char* env = std::getenv("SPARSEDD_DOWNLOAD_URL"); env != nullptr && *env != '\0') {
    std::string s = env;
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
  }
  return "https://www.cs.toronto.edu/~kriz";
}

void download_file(const DownloadSpec& spec) {
  if (io::file_exists(spec.archive) && file_md5(spec.archive) == spec.md5) return;
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const std::string part = spec.archive + ".part";
  Sink sink;
  sink.offset = std::max<int64_t>(0, file_size(part));
  sink.f = std::fopen(part.c_str(), "ab");
  SDD_USER_CHECK(sink.f != nullptr, "cannot write " << part << "; check that " << io::parent_directory(part)
                                                    << " exists and is writable");
  CURL* curl = curl_easy_init();
  SDD_CHECK(curl != nullptr, "curl_easy_init failed");
  sink.curl = curl;
  char err[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, spec.url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, err);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);   // abort when stalled for a minute
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  if (sink.offset > 0) {
    curl_easy_setopt(curl, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(sink.offset));
    std::cerr << "sparsedd: resuming the download of " << spec.url << " at byte " << sink.offset << "\n";
  } else {
    std::cerr << "sparsedd: downloading " << spec.url << "\n";
  }
  const CURLcode rc = curl_easy_perform(curl);
  long status = sink.status;
  if (!sink.checked) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  const bool closed = std::fclose(sink.f) == 0;
  // 416: the .part already holds the whole file; its checksum decides below.
  if (status != 416) {
    SDD_USER_CHECK(status < 400 && !sink.failed, "download of " << spec.url << " failed with HTTP status " << status
                                                                << "; check the URL or SPARSEDD_DOWNLOAD_URL");
    SDD_USER_CHECK(rc == CURLE_OK && closed,
                   "download of " << spec.url << " was interrupted (" << (err[0] ? err : curl_easy_strerror(rc))
                                  << ") after " << std::max<int64_t>(0, file_size(part))
                                  << " bytes; run the command again to resume");
  }
  const std::string got = file_md5(part);
  if (got != spec.md5) {
    std::remove(part.c_str());
    SDD_USER_FAIL("download of " << spec.url << " has MD5 " << got << ", expected " << spec.md5
                                 << "; the partial file was deleted, run the command again");
  }
  SDD_USER_CHECK(std::rename(part.c_str(), spec.archive.c_str()) == 0,
                 "cannot rename " << part << " to " << spec.archive << "; check the folder's permissions");
}

void extract_archive(const std::string& archive, const std::string& dest_dir) {
  std::error_code ec;
  fs::create_directories(dest_dir, ec);
  std::string tmpl = dest_dir + "/.extract.XXXXXX";
  SDD_USER_CHECK(::mkdtemp(tmpl.data()) != nullptr, "cannot create a temporary folder in " << dest_dir
                                                                                           << "; check its permissions");
  const std::string tmp = tmpl;
  struct archive* in = archive_read_new();
  struct archive* out = archive_write_disk_new();
  std::string failure;
  archive_read_support_filter_all(in);
  archive_read_support_format_all(in);
  // Entry names are checked below (no absolute paths, no ".."), then prefixed with the absolute temp dir.
  archive_write_disk_set_options(out, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_SECURE_SYMLINKS);
  if (archive_read_open_filename(in, archive.c_str(), 1 << 16) != ARCHIVE_OK) {
    failure = archive_error_string(in) ? archive_error_string(in) : "cannot open";
  } else {
    struct archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
      const std::string name = archive_entry_pathname(e);
      const auto type = archive_entry_filetype(e);
      if (unsafe_entry(name) || (type != AE_IFREG && type != AE_IFDIR) || archive_entry_hardlink(e) != nullptr) {
        failure = "unsafe entry '" + name + "' (absolute, with '..', or a link)";
        break;
      }
      archive_entry_set_pathname(e, (tmp + "/" + name).c_str());
      if (archive_write_header(out, e) != ARCHIVE_OK) {
        failure = archive_error_string(out) ? archive_error_string(out) : "cannot write " + name;
        break;
      }
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t off = 0;
      int dr;
      while ((dr = archive_read_data_block(in, &buf, &size, &off)) == ARCHIVE_OK)
        if (archive_write_data_block(out, buf, size, off) != ARCHIVE_OK) break;
      if (dr != ARCHIVE_EOF || archive_write_finish_entry(out) != ARCHIVE_OK) {
        failure = "corrupt data in entry '" + name + "'";
        break;
      }
    }
    if (failure.empty() && r != ARCHIVE_EOF) failure = archive_error_string(in) ? archive_error_string(in) : "read error";
  }
  archive_read_free(in);
  archive_write_free(out);
  if (!failure.empty()) {
    fs::remove_all(tmp, ec);
    SDD_USER_FAIL("cannot extract " << archive << ": " << failure << "; delete it and run the command again");
  }
  for (const auto& entry : fs::directory_iterator(tmp)) {
    const fs::path target = fs::path(dest_dir) / entry.path().filename();
    fs::remove_all(target, ec);
    fs::rename(entry.path(), target, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      SDD_USER_FAIL("cannot move the extracted " << target.filename().string() << " into " << dest_dir
                                                 << "; check its permissions");
    }
  }
  fs::remove_all(tmp, ec);
}

void fetch_and_extract(const DownloadSpec& spec) {
  download_file(spec);
  extract_archive(spec.archive, spec.dest_dir);
}

bool download_dataset(const std::string& name, const std::string& root) {
  std::string file, md5, folder;
  std::vector<std::string> needed;
  if (name == "cifar10") {
    file = "cifar-10-binary.tar.gz";
    md5 = "c32a1d4ab5d03f1284b67883e8d87530";
    folder = "cifar-10-batches-bin";
    needed = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
              "test_batch.bin"};
  } else if (name == "cifar100") {
    file = "cifar-100-binary.tar.gz";
    md5 = "03b5dce01913d631647c71ecec9e9cb8";
    folder = "cifar-100-binary";
    needed = {"train.bin", "test.bin"};
  } else {
    SDD_USER_FAIL("--download supports cifar10 and cifar100; put " << name << " under " << root
                                                                   << " yourself (see the error of a run without --download)");
  }
  const std::string dest = root + "/" + name;
  bool present = true;
  for (const auto& f : needed) present = present && io::file_exists(dest + "/" + folder + "/" + f);
  if (present) return false;
  std::error_code ec;
  fs::create_directories(dest, ec);
  SDD_USER_CHECK(!ec, "cannot create " << dest << " (" << ec.message() << "); check --dataset_root / SPARSEDD_DATA");
  fetch_and_extract({download_base_url() + "/" + file, md5, dest + "/" + file, dest});
  for (const auto& f : needed)
    SDD_USER_CHECK(io::file_exists(dest + "/" + folder + "/" + f),
                   "the archive " << dest << "/" << file << " does not contain " << folder << "/" << f
                                  << "; delete it and run the command again");
  return true;
}

}  // namespace sdd::exp
#endif  // SDD_HAVE_DOWNLOAD

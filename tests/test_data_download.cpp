// tests/test_data_download.cpp — `--download` against a tiny single-threaded HTTP server on
// 127.0.0.1 started by the test (Range support, optional cut-off to simulate a dropped connection),
// serving a CIFAR-10-shaped tar.gz generated with libarchive: resume, MD5 check, safe extraction.
#ifdef SDD_HAVE_DOWNLOAD
#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"
#include "experiments/data/dataset.h"
#include "experiments/data/dataset_command.h"
#include "experiments/data/download.h"
#include "experiments/md5.h"

using namespace sdd::exp;
namespace fs = std::filesystem;

namespace {

std::string tmp_root(const std::string& name) {
  const std::string r = std::string(SDD_BINARY_DIR) + "/test_data_tmp/download_" + name;
  std::system(("rm -rf '" + r + "' && mkdir -p '" + r + "'").c_str());
  return r;
}

std::string user_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const sdd::UserError& e) {
    return e.what();
  }
  return "<no UserError>";
}

// Serves `files` (path -> body) over HTTP/1.1 on 127.0.0.1, one connection at a time.
class TinyHttp {
 public:
  explicit TinyHttp(std::map<std::string, std::string> files) : files_(std::move(files)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    socklen_t len = sizeof(a);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~TinyHttp() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<long> cut_next{-1};  // >= 0: the next response sends only this many body bytes, then closes
  std::vector<long> ranges() {     // range start of every request so far (-1: none)
    std::lock_guard<std::mutex> l(mu_);
    return ranges_;
  }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      timeval tv{5, 0};
      ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      serve(c);
      ::close(c);
    }
  }
  void serve(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) return;
      req.append(buf, static_cast<size_t>(n));
    }
    std::istringstream in(req);
    std::string method, path;
    in >> method >> path;
    long from = -1;
    const size_t r = req.find("Range: bytes=");
    if (r != std::string::npos) from = std::stol(req.substr(r + 13));
    {
      std::lock_guard<std::mutex> l(mu_);
      ranges_.push_back(from);
    }
    const auto it = files_.find(path);
    std::ostringstream head;
    std::string body;
    if (it == files_.end()) {
      head << "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n";
    } else if (from >= static_cast<long>(it->second.size())) {
      head << "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n";
    } else {
      const long size = static_cast<long>(it->second.size()), start = from < 0 ? 0 : from;
      body = it->second.substr(static_cast<size_t>(start));
      if (from >= 0)
        head << "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes " << start << "-" << size - 1 << "/" << size << "\r\n";
      else
        head << "HTTP/1.1 200 OK\r\n";
      head << "Content-Length: " << body.size() << "\r\n";
    }
    head << "Connection: close\r\n\r\n";
    const long cut = cut_next.exchange(-1);
    if (cut >= 0 && cut < static_cast<long>(body.size())) body.resize(static_cast<size_t>(cut));
    const std::string out = head.str() + body;
    size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }

  std::map<std::string, std::string> files_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<long> ranges_;
};

std::string make_tar_gz(const std::vector<std::pair<std::string, std::string>>& entries) {
  struct archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  std::vector<char> buf(size_t{1} << 22);
  size_t used = 0;
  REQUIRE(archive_write_open_memory(a, buf.data(), buf.size(), &used) == ARCHIVE_OK);
  for (const auto& [name, data] : entries) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    REQUIRE(archive_write_header(a, e) == ARCHIVE_OK);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return std::string(buf.data(), used);
}

// CIFAR-10 binary layout, two records per file with pseudo-random (incompressible) pixels.
std::string fake_cifar10_archive() {
  std::vector<std::pair<std::string, std::string>> entries;
  uint32_t s = 12345;
  const auto file = [&](const std::string& name) {
    std::string data;
    for (int rec = 0; rec < 2; ++rec) {
      data.push_back(static_cast<char>(rec + 3));
      for (int k = 0; k < 3072; ++k) {
        s = s * 1664525u + 1013904223u;
        data.push_back(static_cast<char>(s >> 24));
      }
    }
    entries.emplace_back("cifar-10-batches-bin/" + name, data);
  };
  for (int b = 1; b <= 5; ++b) file("data_batch_" + std::to_string(b) + ".bin");
  file("test_batch.bin");
  entries.emplace_back("cifar-10-batches-bin/readme.html", "fake");
  return make_tar_gz(entries);
}

bool leftovers(const std::string& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(".extract.", 0) == 0) return true;
  return false;
}

}  // namespace

TEST_CASE("download: an interrupted download resumes with Range, then MD5 check and extraction", "[data]") {
  const std::string archive = fake_cifar10_archive();
  REQUIRE(archive.size() > 20000);
  TinyHttp server({{"/kriz/cifar-10-binary.tar.gz", archive}});
  const std::string root = tmp_root("resume");
  const std::string dest = root + "/cifar10";
  fs::create_directories(dest);
  const DownloadSpec spec{server.base() + "/kriz/cifar-10-binary.tar.gz", md5_hex(archive),
                          dest + "/cifar-10-binary.tar.gz", dest};
  server.cut_next = 10000;
  const std::string msg = user_error([&] { fetch_and_extract(spec); });
  CHECK(msg.find("run the command again to resume") != std::string::npos);
  CHECK(fs::file_size(spec.archive + ".part") == 10000);
  CHECK_FALSE(fs::exists(spec.archive));              // never a truncated archive under the final name
  CHECK_FALSE(fs::exists(dest + "/cifar-10-batches-bin"));

  fetch_and_extract(spec);
  REQUIRE(server.ranges().size() == 2);
  CHECK(server.ranges()[0] == -1);
  CHECK(server.ranges()[1] == 10000);                  // resumed, not restarted
  CHECK_FALSE(fs::exists(spec.archive + ".part"));
  CHECK(sdd::io::read_file(spec.archive) == archive);
  CHECK_FALSE(leftovers(dest));
  const Dataset d = load_dataset("cifar10", true, root);
  CHECK(d.n == 10);
  CHECK(d.labels[1] == 4);
  CHECK(load_dataset("cifar10", false, root).n == 2);

  // Already there with the right MD5: no request.
  download_file(spec);
  CHECK(server.ranges().size() == 2);
  // download_dataset sees the files and does nothing.
  CHECK_FALSE(download_dataset("cifar10", root));
  CHECK(server.ranges().size() == 2);
}

TEST_CASE("download: SPARSEDD_DOWNLOAD_URL, MD5 mismatch, HTTP errors, --download flag", "[data]") {
  const std::string archive = fake_cifar10_archive();
  TinyHttp server({{"/kriz/cifar-10-binary.tar.gz", archive}});
  const char* old = std::getenv("SPARSEDD_DOWNLOAD_URL");
  const std::string saved = old ? old : "";
  setenv("SPARSEDD_DOWNLOAD_URL", (server.base() + "/kriz/").c_str(), 1);
  CHECK(download_base_url() == server.base() + "/kriz");
  const std::string root = tmp_root("md5");
  // The served archive is not the official one: its MD5 differs from c32a1d4a...; nothing is kept.
  std::string msg = user_error([&] { download_dataset("cifar10", root); });
  CHECK(msg.find("c32a1d4ab5d03f1284b67883e8d87530") != std::string::npos);
  CHECK(server.ranges().size() == 1);
  CHECK_FALSE(fs::exists(root + "/cifar10/cifar-10-binary.tar.gz.part"));
  CHECK_FALSE(fs::exists(root + "/cifar10/cifar-10-binary.tar.gz"));
  CHECK_FALSE(fs::exists(root + "/cifar10/cifar-10-batches-bin"));
  // The same through `sparsedd dataset --download`.
  msg = user_error([&] { dataset_command({"--dataset_name=cifar10", "--dataset_root=" + root, "--download"}); });
  CHECK(msg.find("MD5") != std::string::npos);
  CHECK(server.ranges().size() == 2);
  // cifar100 is not served: HTTP 404 named.
  msg = user_error([&] { download_dataset("cifar100", root); });
  CHECK(msg.find("404") != std::string::npos);
  CHECK(user_error([&] { download_dataset("mnist", root); }).find("cifar10 and cifar100") != std::string::npos);
  if (old)
    setenv("SPARSEDD_DOWNLOAD_URL", saved.c_str(), 1);
  else
    unsetenv("SPARSEDD_DOWNLOAD_URL");
  CHECK(download_base_url() == (old ? saved : std::string("https://www.cs.toronto.edu/~kriz")));
}

TEST_CASE("download: extraction rejects unsafe paths and leaves nothing half-extracted", "[data]") {
  const std::string root = tmp_root("unsafe");
  const std::string evil = make_tar_gz({{"good/a.bin", "aaaa"}, {"../evil.bin", "x"}});
  sdd::io::write_file_atomic(root + "/evil.tar.gz", evil);
  fs::create_directories(root + "/out");
  CHECK(user_error([&] { extract_archive(root + "/evil.tar.gz", root + "/out"); }).find("unsafe") != std::string::npos);
  CHECK_FALSE(fs::exists(root + "/evil.bin"));
  CHECK_FALSE(fs::exists(root + "/out/good"));  // the good entry never reached its final place
  CHECK_FALSE(leftovers(root + "/out"));
  // A truncated archive: an error, and again nothing in place.
  sdd::io::write_file_atomic(root + "/cut.tar.gz", fake_cifar10_archive().substr(0, 5000));
  CHECK(user_error([&] { extract_archive(root + "/cut.tar.gz", root + "/out"); }).find("cut.tar.gz") != std::string::npos);
  CHECK_FALSE(fs::exists(root + "/out/cifar-10-batches-bin"));
  CHECK_FALSE(leftovers(root + "/out"));
}
#endif  // SDD_HAVE_DOWNLOAD

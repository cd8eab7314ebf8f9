// tests/test_io_atomic_file.cpp — atomic writes (temp file + fsync + rename) and whole-file reads:
// contents, no leftover temporary files, old file intact when the writer fails, clear UserErrors.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/errors.h"
#include "engine/io/atomic_file.h"

namespace {

// A fresh empty directory under $TMPDIR (or /tmp), removed (with its plain files) at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sdd_io_atomic_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    REQUIRE(::mkdtemp(buf.data()) != nullptr);
    path = buf.data();
  }
  ~TempDir() {
    for (const std::string& n : entries()) {
      const std::string p = path + "/" + n;
      if (::unlink(p.c_str()) != 0) ::rmdir(p.c_str());
    }
    ::rmdir(path.c_str());
  }
  std::vector<std::string> entries() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path.c_str());
    if (!d) return out;
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
  }
};

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

// The message of the UserError that fn throws ("" and a test failure when it throws nothing).
template <class F>
std::string user_error_of(F&& fn) {
  try {
    fn();
  } catch (const sdd::UserError& e) {
    return e.what();
  }
  FAIL("expected a UserError");
  return "";
}

}  // namespace

TEST_CASE("atomic write creates and replaces a file without leftovers", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/state.bin";
  sdd::io::write_file_atomic(target, std::string("first version"));
  CHECK(slurp(target) == "first version");
  sdd::io::write_file_atomic(target, std::string("second"));
  CHECK(slurp(target) == "second");
  CHECK(dir.entries() == std::vector<std::string>{"state.bin"});
  CHECK(sdd::io::file_exists(target));
  CHECK_FALSE(sdd::io::file_exists(dir.path));
  CHECK(sdd::io::directory_exists(dir.path));
}

TEST_CASE("atomic write streams large contents in pieces", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/big.bin";
  std::string expect;
  sdd::io::write_file_atomic(target, [&](sdd::io::AtomicFile& f) {
    // pieces of varied sizes, together well above the 4 MiB internal chunk
    for (int i = 0; i < 40; ++i) {
      std::string piece(static_cast<size_t>((i * 7919) % 300000 + 1), static_cast<char>('a' + i % 26));
      expect += piece;
      f.write(piece);
    }
    std::string huge(size_t(5) << 20, 'Z');
    expect += huge;
    f.write(huge);
    CHECK(f.bytes_written() == expect.size());
  });
  const std::string got = slurp(target);
  REQUIRE(got.size() == expect.size());
  CHECK(got == expect);
  CHECK(sdd::io::read_file(target) == expect);
  CHECK(dir.entries().size() == 1);
}

TEST_CASE("atomic write that fails midway leaves the old file and no temporary file", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/checkpoint.safetensors";
  sdd::io::write_file_atomic(target, std::string("OLD CONTENTS"));
  std::string temp_seen;
  REQUIRE_THROWS_AS(sdd::io::write_file_atomic(target,
                                               [&](sdd::io::AtomicFile& f) {
                                                 f.write(std::string(1 << 20, 'x'));
                                                 f.write(std::string(5 << 20, 'y'));   // reaches the disk
                                                 temp_seen = f.temp_path();
                                                 // while writing, the target is still the old file
                                                 CHECK(slurp(target) == "OLD CONTENTS");
                                                 CHECK(dir.entries().size() == 2);
                                                 throw std::runtime_error("writer killed");
                                               }),
                    std::runtime_error);
  CHECK(slurp(target) == "OLD CONTENTS");
  CHECK(temp_seen.rfind(target + ".tmp.", 0) == 0);   // the temporary file lived beside the target
  CHECK_FALSE(sdd::io::file_exists(temp_seen));
  CHECK(dir.entries() == std::vector<std::string>{"checkpoint.safetensors"});
}

TEST_CASE("atomic write abandoned without commit removes its temporary file", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/x.txt";
  {
    sdd::io::AtomicFile f(target);
    f.write(std::string("partial"));
    CHECK(sdd::io::file_exists(f.temp_path()));
  }
  CHECK_FALSE(sdd::io::file_exists(target));
  CHECK(dir.entries().empty());
}

TEST_CASE("temporaries left by a killed writer are recognised and removed, nothing else", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/checkpoint.safetensors";
  std::string temp;
  {
    sdd::io::AtomicFile f(target);   // a real temporary name
    temp = f.temp_path();
  }
  const std::string leaf = temp.substr(dir.path.size() + 1);
  CHECK(sdd::io::is_temporary_name(leaf));
  // What a SIGKILL before commit leaves: the temporary; beside it files that must stay.
  const std::vector<std::string> keep = {"checkpoint.safetensors", "logger", "a.tmp.1.2", "a.tmp.1.2.x",
                                         "a.tmp.1..2", ".tmp.1.2.3", "a.tmp.1.2.3.4"};
  for (const std::string& name : keep) CHECK_FALSE(sdd::io::is_temporary_name(name));
  for (const std::string& name : keep) std::ofstream(dir.path + "/" + name) << "x";
  std::ofstream(temp) << "partial";
  std::ofstream(dir.path + "/model_ep1_it0.safetensors.tmp.77.0.123") << "partial";
  CHECK(sdd::io::remove_stale_temporaries(dir.path) == 2);
  CHECK_FALSE(sdd::io::file_exists(temp));
  for (const std::string& name : keep) CHECK(sdd::io::file_exists(dir.path + "/" + name));
  CHECK(sdd::io::remove_stale_temporaries(dir.path + "/missing") == 0);
}

TEST_CASE("atomic write onto a directory fails cleanly and names the path", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/occupied";
  REQUIRE(::mkdir(target.c_str(), 0755) == 0);
  const std::string msg = user_error_of([&] { sdd::io::write_file_atomic(target, std::string("data")); });
  CHECK_THAT(msg, Catch::Matchers::Contains(target));
  CHECK(msg.find('\n') == std::string::npos);
  // the directory is untouched and no temporary file is left beside it
  CHECK(sdd::io::directory_exists(target));
  CHECK(dir.entries() == std::vector<std::string>{"occupied"});
}

TEST_CASE("atomic write into a missing directory is a UserError naming the path", "[io]") {
  TempDir dir;
  const std::string target = dir.path + "/no/such/dir/file.bin";
  const std::string msg = user_error_of([&] { sdd::io::write_file_atomic(target, std::string("data")); });
  CHECK_THAT(msg, Catch::Matchers::Contains(target));
  CHECK_THAT(msg, Catch::Matchers::Contains("does not exist"));
  CHECK(dir.entries().empty());
}

TEST_CASE("read_file reports missing files and directories with their path", "[io]") {
  TempDir dir;
  const std::string missing = dir.path + "/absent.bin";
  std::string msg = user_error_of([&] { sdd::io::read_file(missing); });
  CHECK_THAT(msg, Catch::Matchers::Contains(missing));
  CHECK_THAT(msg, Catch::Matchers::Contains("no such file"));
  msg = user_error_of([&] { sdd::io::read_file(dir.path); });
  CHECK_THAT(msg, Catch::Matchers::Contains(dir.path));
  CHECK_THAT(msg, Catch::Matchers::Contains("directory"));
  // binary contents with NUL bytes come back exactly
  const std::string bin("a\0b\0\xff", 5);
  sdd::io::write_file_atomic(dir.path + "/bin", bin);
  CHECK(sdd::io::read_file(dir.path + "/bin") == bin);
}

TEST_CASE("read_file reports unreadable files", "[io]") {
  if (::geteuid() == 0) {
    WARN("SKIPPED: running as root, permission bits do not stop reads");
    return;
  }
  TempDir dir;
  const std::string p = dir.path + "/secret";
  sdd::io::write_file_atomic(p, std::string("x"));
  REQUIRE(::chmod(p.c_str(), 0) == 0);
  const std::string msg = user_error_of([&] { sdd::io::read_file(p); });
  CHECK_THAT(msg, Catch::Matchers::Contains(p));
}

TEST_CASE("expand_home replaces a leading ~ with $HOME and leaves other paths", "[io]") {
  const char* saved = std::getenv("HOME");
  const std::string keep = saved ? saved : "";
  ::setenv("HOME", "/home/researcher", 1);
  CHECK(sdd::io::expand_home("~") == "/home/researcher");
  CHECK(sdd::io::expand_home("~/sparsedd_results") == "/home/researcher/sparsedd_results");
  CHECK(sdd::io::expand_home("/data/~/x") == "/data/~/x");
  CHECK(sdd::io::expand_home("~user/x") == "~user/x");
  CHECK(sdd::io::expand_home("results") == "results");
  CHECK(sdd::io::expand_home("") == "");
  ::unsetenv("HOME");
  CHECK(sdd::io::expand_home("~/r") == "./r");
  if (saved) ::setenv("HOME", keep.c_str(), 1);
}

TEST_CASE("parent_directory splits paths", "[io]") {
  CHECK(sdd::io::parent_directory("a/b/c.txt") == "a/b");
  CHECK(sdd::io::parent_directory("c.txt") == ".");
  CHECK(sdd::io::parent_directory("/c.txt") == "/");
}

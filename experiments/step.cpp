// experiments/step.cpp — Step arithmetic and the round-trip step-string parser (SPEC 2.8).
#include "experiments/step.h"

#include <cmath>

#include "engine/errors.h"

namespace sdd::exp {
namespace {

// Parses an integer the way the original's round trip allows: "-"? digits, no leading zeros, no "-0".
// Returns false for anything else (the original's int() + str() comparison would reject it too).
bool parse_canonical_int(const std::string& s, int64_t& out) {
  size_t p = 0;
  bool neg = false;
  if (p < s.size() && s[p] == '-') {
    neg = true;
    ++p;
  }
  if (p >= s.size() || s.size() - p > 17) return false;
  for (size_t i = p; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  if (s[p] == '0' && s.size() - p > 1) return false;  // leading zero
  if (neg && s[p] == '0') return false;                // "-0"
  int64_t v = 0;
  for (size_t i = p; i < s.size(); ++i) v = v * 10 + (s[i] - '0');
  out = neg ? -v : v;
  return true;
}

[[noreturn]] void bad_step(const std::string& s) {
  SDD_USER_FAIL("invalid step string '" << s
                << "': write <E>ep, <I>it or <E>ep<I>it with plain integers (e.g. 160ep, 1000it, 1ep100it)");
}

// Splits a step string into (ep, it) parts; returns false on a malformed string.
bool split_step(const std::string& s, bool& has_ep, int64_t& ep, bool& has_it, int64_t& it) {
  const size_t e = s.find("ep");
  const size_t i = s.find("it");
  has_ep = e != std::string::npos;
  has_it = i != std::string::npos;
  ep = it = 0;
  if (has_ep && has_it) {
    // "<E>ep<I>it" exactly: ep must come first and the string must end at "it".
    if (i < e + 2 || i + 2 != s.size()) return false;
    return parse_canonical_int(s.substr(0, e), ep) && parse_canonical_int(s.substr(e + 2, i - e - 2), it);
  }
  if (has_ep) return e + 2 == s.size() && parse_canonical_int(s.substr(0, e), ep);
  if (has_it) return i + 2 == s.size() && parse_canonical_int(s.substr(0, i), it);
  return false;
}

}  // namespace

Step::Step(int64_t iteration, int64_t ipe) : iteration_(iteration), ipe_(ipe) {
  SDD_USER_CHECK(iteration >= 0, "iteration must >= 0 (got " << iteration << "); use a non-negative step");
  SDD_USER_CHECK(ipe > 0, "iterations per epoch must be > 0 (got " << ipe << "); check batch_size");
}

Step Step::from_epoch(int64_t ep, int64_t it, int64_t ipe) {
  SDD_USER_CHECK(ipe > 0, "iterations per epoch must be > 0 (got " << ipe << "); check batch_size");
  return Step(ep * ipe + it, ipe);
}

Step Step::from_str(const std::string& s, int64_t ipe) {
  bool has_ep, has_it;
  int64_t ep, it;
  if (!split_step(s, has_ep, ep, has_it, it)) bad_step(s);
  if (has_ep && !has_it) {
    SDD_USER_CHECK(ep >= 0, "invalid step string '" << s << "': iteration must >= 0");
  }
  if (has_it && !has_ep) {
    SDD_USER_CHECK(it >= 0, "invalid step string '" << s << "': iteration must >= 0");
  }
  SDD_USER_CHECK(ep * ipe + it >= 0, "invalid step string '" << s << "': iteration must >= 0");
  return from_epoch(ep, it, ipe);
}

bool Step::str_is_zero(const std::string& s) { return s == "0ep" || s == "0it" || s == "0ep0it"; }

bool Step::is_valid_str(const std::string& s) {
  bool has_ep, has_it;
  int64_t ep, it;
  if (!split_step(s, has_ep, ep, has_it, it)) return false;
  if (has_ep != has_it) return ep >= 0 && it >= 0;
  return true;
}

std::string Step::ep_it() const { return "ep" + std::to_string(ep()) + "_it" + std::to_string(it()); }
std::string Step::str() const { return std::to_string(ep()) + "ep" + std::to_string(it()) + "it"; }

void Step::check_same_ipe(const Step& o) const {
  SDD_USER_CHECK(ipe_ == o.ipe_, "cannot compare steps with different iterations per epoch (" << ipe_ << " vs "
                                                                                              << o.ipe_ << ")");
}
bool Step::operator==(const Step& o) const {
  check_same_ipe(o);
  return iteration_ == o.iteration_;
}
bool Step::operator<(const Step& o) const {
  check_same_ipe(o);
  return iteration_ < o.iteration_;
}

int64_t num_train_examples(const std::string& d) {
  if (d == "mnist" || d == "fashion_mnist") return 60000;
  if (d == "cifar10" || d == "cifar100") return 50000;
  if (d == "tiny_imagenet" || d == "tinyimagenet") return 100000;
  if (d == "imagenet") return 1281167;
  SDD_USER_FAIL("unknown dataset '" << d
                << "'; use one of mnist, fashion_mnist, cifar10, cifar100, tiny_imagenet, imagenet");
}

int64_t iterations_per_epoch(const std::string& dataset_name, int64_t batch_size,
                             std::optional<double> subsample_fraction) {
  SDD_USER_CHECK(batch_size > 0, "batch_size must be > 0 (got " << batch_size << ")");
  double n = static_cast<double>(num_train_examples(dataset_name));
  if (subsample_fraction && *subsample_fraction != 0.0) n *= *subsample_fraction;
  return static_cast<int64_t>(std::ceil(n / static_cast<double>(batch_size)));
}

}  // namespace sdd::exp

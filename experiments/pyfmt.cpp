// experiments/pyfmt.cpp — Python float repr from std::to_chars' shortest round-trip digits.
#include "experiments/pyfmt.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

#include "engine/errors.h"

namespace sdd::exp {

std::string py_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0.0) return std::signbit(v) ? "-0.0" : "0.0";

  // Shortest round-trip digits in scientific form: "-d.ddde+XX".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  SDD_CHECK(res.ec == std::errc(), "to_chars failed");
  std::string sci(buf, res.ptr);

  std::string sign;
  size_t pos = 0;
  if (sci[0] == '-') {
    sign = "-";
    pos = 1;
  }
  const size_t epos = sci.find('e');
  std::string mant = sci.substr(pos, epos - pos);  // "d" or "d.ddd"
  const int exp10 = std::atoi(sci.c_str() + epos + 1);
  std::string digits;  // significant digits without the point
  for (char c : mant)
    if (c != '.') digits += c;
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();

  if (exp10 >= -4 && exp10 < 16) {
    std::string out;
    if (exp10 < 0) {
      out = "0." + std::string(static_cast<size_t>(-exp10 - 1), '0') + digits;
    } else {
      const size_t int_len = static_cast<size_t>(exp10) + 1;
      if (digits.size() <= int_len) {
        out = digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out = digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    }
    return sign + out;
  }
  std::string out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  const int ax = std::abs(exp10);
  out += exp10 < 0 ? "e-" : "e+";
  if (ax < 10) out += "0";
  out += std::to_string(ax);
  return sign + out;
}

}  // namespace sdd::exp

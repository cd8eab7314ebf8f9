// experiments/pyfmt.h — Python-compatible rendering of floats (repr / str of a Python 3 float).
//
// Python prints a float with the shortest digit string that round-trips, in fixed notation when the
// decimal exponent x (value = d.ddd * 10^x) satisfies -4 <= x < 16, otherwise in scientific notation
// with a sign and at least two exponent digits: 0.1, 0.0001, 1e-05, 160.0, 1e+16, 1.5e-07, inf, nan.
// Used by hyperparameter canonical strings (experiment hashes, SPEC 10.2) and hparams.log (SPEC 10.4).
#pragma once
#include <string>

namespace sdd::exp {

// Python's repr(float(v)).
std::string py_float_repr(double v);

}  // namespace sdd::exp

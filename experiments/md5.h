// experiments/md5.h — MD5 message digest (RFC 1321), our own implementation.
//
// Experiment directory names are `<prefix>_<md5 of the canonical hyperparameter string>` (SPEC 10.2),
// so the digest must be the standard one, rendered as 32 lowercase hex characters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sdd::exp {

// Lowercase hex MD5 digest (32 characters) of the bytes of `data`.
std::string md5_hex(const std::string& data);

// Raw 16-byte digest of `n` bytes at `data`.
void md5_digest(const void* data, size_t n, uint8_t out[16]);

}  // namespace sdd::exp

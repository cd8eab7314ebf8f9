// engine/storage.h — a block of memory on one device, owned through shared_ptr.
//
// Host blocks are 64-byte aligned (AVX-512 friendly). Device blocks come from the CUDA backend's
// caching allocator (engine/cuda/allocator_cuda.cpp); freeing returns them to its cache. Tensors are views
// (byte offset + shape) into a Storage, so the parameter, gradient, momentum and mask arenas are
// one Storage each (DESIGN rule 6).
#pragma once
#include <cstddef>
#include <memory>

#include "engine/device.h"

namespace sdd {

class Storage {
 public:
  Storage(void* ptr, size_t nbytes, Device dev, void (*deleter)(void*, size_t, Device))
      : ptr_(ptr), nbytes_(nbytes), device_(dev), deleter_(deleter) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return ptr_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  // Allocates nbytes on dev (host: aligned malloc; CUDA: caching allocator). nbytes may be 0.
  static std::shared_ptr<Storage> allocate(size_t nbytes, Device dev);

 private:
  void* ptr_;
  size_t nbytes_;
  Device device_;
  void (*deleter_)(void*, size_t, Device);
};

// Poisoning: when on, every newly allocated f32/f64 host or device buffer is filled with NaN, so a
// kernel that forgets to write part of its output makes the tests fail (DESIGN rule 9). Off by
// default; the gradient-check tests switch it on.
void set_poison_new_buffers(bool on);
bool poison_new_buffers();

}  // namespace sdd

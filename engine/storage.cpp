// engine/storage.cpp — host allocation and the Storage lifetime.
#include "engine/storage.h"

#include <cstdlib>
#include <new>

#include "engine/errors.h"

namespace sdd {

namespace cuda {
void* device_alloc(size_t nbytes, int device);   // engine/cuda/allocator_cuda.cpp or backend_nocuda.cpp
void device_free(void* p, size_t nbytes, int device);
}  // namespace cuda

namespace {
bool g_poison = false;

void host_free(void* p, size_t, Device) { std::free(p); }
void dev_free(void* p, size_t n, Device d) { cuda::device_free(p, n, d.index); }
}  // namespace

Storage::~Storage() {
  if (ptr_ && deleter_) deleter_(ptr_, nbytes_, device_);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device dev) {
  if (dev.is_cpu()) {
    const size_t rounded = (nbytes + 63) / 64 * 64;
    void* p = rounded ? std::aligned_alloc(64, rounded) : nullptr;
    if (rounded && !p) throw std::bad_alloc();
    return std::make_shared<Storage>(p, nbytes, dev, &host_free);
  }
  void* p = nbytes ? cuda::device_alloc(nbytes, dev.index) : nullptr;
  return std::make_shared<Storage>(p, nbytes, dev, &dev_free);
}

void set_poison_new_buffers(bool on) { g_poison = on; }
bool poison_new_buffers() { return g_poison; }

}  // namespace sdd

// engine/cuda/backend_nocuda.cpp — the CUDA backend of a CPU-only build (compiled only when CUDA is
// off; see CMakeLists.txt, *_nocuda.cpp). The device probe reports 0 devices; every other entry
// throws DeviceError("built without CUDA"), so a cuda:N tensor can never be created.
#include "engine/cuda/cuda_backend.h"

namespace sdd::cuda {

namespace {
[[noreturn]] void no_cuda(const char* what) {
  throw DeviceError(std::string("sparsedd was built without CUDA (") + what +
                    "): rebuild with nvcc and cuDNN available, or run on the CPU");
}
}  // namespace

int probe_device_count() { return 0; }
void* device_alloc(size_t, int) { no_cuda("device_alloc"); }
void device_free(void*, size_t, int) {}
void memcpy_any(void*, Device, const void*, Device, size_t) { no_cuda("memcpy"); }
void synchronize(int) {}
MemoryStats memory_stats(int) { return {}; }

void copy_same_device(void*, const void*, size_t) { no_cuda("copy"); }
void fill(const Tensor&, double) { no_cuda("fill"); }
void cast(const Tensor&, const Tensor&) { no_cuda("cast"); }
void binary(BinaryOp, const Tensor&, const Tensor&, const Tensor&) { no_cuda("binary"); }
void affine(const Tensor&, float, float, const Tensor&) { no_cuda("affine"); }
void axpy(float, const Tensor&, const Tensor&) { no_cuda("axpy"); }
void relu_forward(const Tensor&, const Tensor&) { no_cuda("relu_forward"); }
void relu_backward(const Tensor&, const Tensor&, const Tensor&) { no_cuda("relu_backward"); }
void sum_all(const Tensor&, const Tensor&) { no_cuda("sum_all"); }
void gemm(bool, bool, float, const Tensor&, const Tensor&, float, const Tensor&) { no_cuda("gemm"); }
void add_row_bias(const Tensor&, const Tensor&) { no_cuda("add_row_bias"); }
void sum_rows(const Tensor&, const Tensor&) { no_cuda("sum_rows"); }
void add_channel_bias(const Tensor&, const Tensor&) { no_cuda("add_channel_bias"); }
void sum_channels(const Tensor&, const Tensor&) { no_cuda("sum_channels"); }
void conv2d_forward(const Conv2dGeom&, const Tensor&, const Tensor&, const Tensor&) { no_cuda("conv2d_forward"); }
void conv2d_backward_data(const Conv2dGeom&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("conv2d_backward_data");
}
void conv2d_backward_filter(const Conv2dGeom&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("conv2d_backward_filter");
}
void batchnorm_forward_train(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double, double,
                             const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("batchnorm_forward_train");
}
void batchnorm_forward_eval(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, double,
                            const Tensor&) {
  no_cuda("batchnorm_forward_eval");
}
void batchnorm_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
                        const Tensor&, const Tensor&) {
  no_cuda("batchnorm_backward");
}
void maxpool2d_forward(const Pool2dGeom&, const Tensor&, const Tensor&, const Tensor&) { no_cuda("maxpool2d_forward"); }
void maxpool2d_backward(const Pool2dGeom&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("maxpool2d_backward");
}
void avgpool2d_forward(const Pool2dGeom&, const Tensor&, const Tensor&) { no_cuda("avgpool2d_forward"); }
void avgpool2d_backward(const Pool2dGeom&, const Tensor&, const Tensor&) { no_cuda("avgpool2d_backward"); }
void softmax_xent_forward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("softmax_xent_forward");
}
void softmax_xent_backward(const Tensor&, const Tensor&, const Tensor&, const Tensor&) {
  no_cuda("softmax_xent_backward");
}
void argmax_rows(const Tensor&, const Tensor&) { no_cuda("argmax_rows"); }
void count_equal(const Tensor&, const Tensor&, const Tensor&) { no_cuda("count_equal"); }
void masked_sgd(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const kern::SgdHyper&,
                int64_t, int64_t) {
  no_cuda("masked_sgd");
}
void adam(const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&, const Tensor&,
          const kern::AdamHyper&, int64_t, int64_t) {
  no_cuda("adam");
}

// ---- engine/backend_pruning.inc and engine/backend_data.inc (helper M)
void prune_scores(const Tensor&, const Tensor&, bool, const Tensor&) { no_cuda("prune_scores"); }
int64_t count_nonzero(const Tensor&) { no_cuda("count_nonzero"); }
bool candidate_kth_value(const std::vector<Tensor>&, const std::vector<Tensor>&, int64_t, float*, int64_t*) {
  no_cuda("candidate_kth_value");
}
void mask_keep_above(const Tensor&, const Tensor&, float, const Tensor&) { no_cuda("mask_keep_above"); }
void crop_flip_batch(const Tensor&, const Tensor&, const Tensor&, int32_t, bool, uint64_t, uint64_t,
                     const std::vector<float>&, const std::vector<float>&) {
  no_cuda("crop_flip_batch");
}

}  // namespace sdd::cuda

// engine/dist/nccl_communicator_cuda.cpp — NcclCommunicator (CUDA builds only; NCCL use guarded by
// SDD_HAVE_NCCL, the MPI bootstrap by SDD_HAVE_MPI). Collectives are enqueued on the device's stream.
#include "engine/dist/nccl_communicator.h"

#include "engine/cuda/context.h"
#include "engine/cuda/cuda_check.h"
#if defined(SDD_HAVE_NCCL) && defined(SDD_HAVE_MPI)
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include "engine/dist/mpi_communicator.h"
#endif

namespace sdd::dist {

#ifdef SDD_HAVE_NCCL

struct NcclCommunicator::Impl {
  ncclComm_t comm = nullptr;
  Tensor scratch;   // f32 [1] on the device, for barrier()
};

NcclCommunicator::NcclCommunicator(int rank, int size, int device, std::unique_ptr<Impl> impl)
    : rank_(rank), size_(size), device_(device), impl_(std::move(impl)) {}

NcclCommunicator::~NcclCommunicator() {
  if (impl_ && impl_->comm != nullptr) ncclCommDestroy(impl_->comm);   // no throw from a destructor
}

std::vector<std::unique_ptr<Communicator>> NcclCommunicator::create_local(const std::vector<int>& devices) {
  const int n = static_cast<int>(devices.size());
  SDD_USER_CHECK(n >= 1, "NCCL: no devices given");
  SDD_USER_CHECK(cuda_device_count() >= n, "NCCL: " << n << " GPUs requested but " << cuda_device_count()
                                                    << " visible; pass fewer devices or check CUDA_VISIBLE_DEVICES");
  for (int d : devices) cuda::context(d);   // create the streams before NCCL binds to the devices
  std::vector<ncclComm_t> comms(static_cast<size_t>(n));
  SDD_NCCL_CHECK(ncclCommInitAll(comms.data(), n, devices.data()));
  std::vector<std::unique_ptr<Communicator>> out;
  for (int r = 0; r < n; ++r) {
    auto impl = std::make_unique<Impl>();
    impl->comm = comms[static_cast<size_t>(r)];
    impl->scratch = Tensor::zeros({1}, DType::f32, Device::cuda(devices[static_cast<size_t>(r)]));
    out.push_back(std::make_unique<NcclCommunicator>(r, n, devices[static_cast<size_t>(r)], std::move(impl)));
  }
  return out;
}

std::unique_ptr<Communicator> NcclCommunicator::create_with_mpi(int device) {
#ifdef SDD_HAVE_MPI
  const int rank = mpi_world_rank();
  const int size = mpi_world_size();
  SDD_USER_CHECK(device >= 0 && device < cuda_device_count(),
                 "NCCL: rank " << rank << " asked for cuda:" << device << " but " << cuda_device_count()
                               << " GPUs are visible");
  ncclUniqueId id;
  if (rank == 0) SDD_NCCL_CHECK(ncclGetUniqueId(&id));
  if (MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
    throw DeviceError("MPI error: broadcasting the NCCL unique id failed");
  cuda::context(device);   // sets the current device
  auto impl = std::make_unique<Impl>();
  SDD_NCCL_CHECK(ncclCommInitRank(&impl->comm, size, id, rank));
  impl->scratch = Tensor::zeros({1}, DType::f32, Device::cuda(device));
  return std::make_unique<NcclCommunicator>(rank, size, device, std::move(impl));
#else
  (void)device;
  SDD_USER_FAIL("NCCL across processes is bootstrapped over MPI, and this sparsedd was built without MPI: "
                "install libopenmpi-dev and rebuild");
#endif
}

namespace {
void check_on(const Tensor& t, int device, const char* what) {
  detail::check_f32(t, what);
  SDD_CHECK(t.device() == Device::cuda(device), what << ": tensor " << t.str() << " is not on cuda:" << device);
}
}  // namespace

void NcclCommunicator::all_reduce_sum(Tensor& t) {
  check_on(t, device_, "all_reduce_sum");
  auto& ctx = cuda::context(device_);
  // t = sum_r t_r
  SDD_NCCL_CHECK(ncclAllReduce(t.raw(), t.raw(), static_cast<size_t>(t.numel()), ncclFloat32, ncclSum, impl_->comm,
                               ctx.stream));
}

void NcclCommunicator::all_reduce_mean(Tensor& t) {
  check_on(t, device_, "all_reduce_mean");
  auto& ctx = cuda::context(device_);
  // t = (1/W) sum_r t_r
  SDD_NCCL_CHECK(ncclAllReduce(t.raw(), t.raw(), static_cast<size_t>(t.numel()), ncclFloat32, ncclAvg, impl_->comm,
                               ctx.stream));
}

void NcclCommunicator::broadcast(Tensor& t, int root) {
  check_on(t, device_, "broadcast");
  SDD_CHECK(root >= 0 && root < size_, "broadcast root " << root << " of world " << size_);
  auto& ctx = cuda::context(device_);
  SDD_NCCL_CHECK(ncclBroadcast(t.raw(), t.raw(), static_cast<size_t>(t.numel()), ncclFloat32, root, impl_->comm,
                               ctx.stream));
}

void NcclCommunicator::barrier() {
  all_reduce_sum(impl_->scratch);
  SDD_CUDA_CHECK(cudaStreamSynchronize(cuda::context(device_).stream));
}

#else  // built with CUDA but without NCCL

struct NcclCommunicator::Impl {};
NcclCommunicator::NcclCommunicator(int rank, int size, int device, std::unique_ptr<Impl> impl)
    : rank_(rank), size_(size), device_(device), impl_(std::move(impl)) {}
NcclCommunicator::~NcclCommunicator() = default;

#define SDD_NO_NCCL() SDD_USER_FAIL("this sparsedd was built without NCCL: install libnccl-dev and rebuild")
std::vector<std::unique_ptr<Communicator>> NcclCommunicator::create_local(const std::vector<int>&) { SDD_NO_NCCL(); }
std::unique_ptr<Communicator> NcclCommunicator::create_with_mpi(int) { SDD_NO_NCCL(); }
void NcclCommunicator::all_reduce_sum(Tensor&) { SDD_NO_NCCL(); }
void NcclCommunicator::all_reduce_mean(Tensor&) { SDD_NO_NCCL(); }
void NcclCommunicator::broadcast(Tensor&, int) { SDD_NO_NCCL(); }
void NcclCommunicator::barrier() { SDD_NO_NCCL(); }

#endif

}  // namespace sdd::dist

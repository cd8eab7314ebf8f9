// engine/dist/communicator.cpp — SingleCommunicator, the default all_reduce_mean, backend names and
// the factories that choose an implementation (see communicator.h).
#include "engine/dist/communicator.h"

#include <cstdlib>

#include "engine/dist/in_process_communicator.h"
#include "engine/ops.h"
#ifdef SDD_HAVE_MPI
#include "engine/dist/mpi_communicator.h"
#endif
#ifdef SDD_HAVE_CUDA
#include "engine/dist/nccl_communicator.h"
#endif

namespace sdd::dist {

namespace detail {
void check_f32(const Tensor& t, const char* what) {
  SDD_CHECK(t.defined(), what << ": undefined tensor");
  SDD_CHECK(t.dtype() == DType::f32, what << ": needs an f32 tensor, got " << t.str());
}
}  // namespace detail

void Communicator::all_reduce_mean(Tensor& t) {
  all_reduce_sum(t);
  // t = sum / W
  if (world_size() > 1) ops::scale_(t, 1.0f / static_cast<float>(world_size()));
}

void SingleCommunicator::all_reduce_sum(Tensor& t) { detail::check_f32(t, "all_reduce_sum"); }
void SingleCommunicator::all_reduce_mean(Tensor& t) { detail::check_f32(t, "all_reduce_mean"); }
void SingleCommunicator::broadcast(Tensor& t, int root) {
  detail::check_f32(t, "broadcast");
  SDD_CHECK(root == 0, "broadcast root " << root << " with world size 1");
}

Backend parse_backend(const std::string& name) {
  if (name == "auto") return Backend::Auto;
  if (name == "single") return Backend::Single;
  if (name == "inprocess") return Backend::InProcess;
  if (name == "mpi") return Backend::Mpi;
  if (name == "nccl") return Backend::Nccl;
  SDD_USER_FAIL("unknown communicator backend '" << name << "': use auto, single, inprocess, mpi or nccl");
}

const char* backend_str(Backend b) {
  switch (b) {
    case Backend::Auto: return "auto";
    case Backend::Single: return "single";
    case Backend::InProcess: return "inprocess";
    case Backend::Mpi: return "mpi";
    case Backend::Nccl: return "nccl";
  }
  return "?";
}

bool backend_built(Backend b) {
  switch (b) {
    case Backend::Auto:
    case Backend::Single:
    case Backend::InProcess: return true;
    case Backend::Mpi:
#ifdef SDD_HAVE_MPI
      return true;
#else
      return false;
#endif
    case Backend::Nccl:
#ifdef SDD_HAVE_NCCL
      return true;
#else
      return false;
#endif
  }
  return false;
}

bool launched_under_mpi() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && std::atoi(v) > 1) return true;
  }
  return false;
}

std::vector<std::unique_ptr<Communicator>> make_local_communicators(const std::vector<Device>& devices,
                                                                    Backend backend) {
  SDD_USER_CHECK(!devices.empty(), "data parallelism needs at least one device");
  std::vector<std::unique_ptr<Communicator>> out;
  if (backend == Backend::Single || (backend == Backend::Auto && devices.size() == 1)) {
    SDD_USER_CHECK(devices.size() == 1, "the single communicator drives one device, got " << devices.size());
    out.push_back(std::make_unique<SingleCommunicator>());
    return out;
  }
  bool all_cuda = true;
  for (const Device& d : devices) all_cuda = all_cuda && d.is_cuda();
  if (backend == Backend::Auto) backend = (all_cuda && backend_built(Backend::Nccl)) ? Backend::Nccl : Backend::InProcess;
  switch (backend) {
    case Backend::InProcess: {
      auto group = std::make_shared<InProcessGroup>(static_cast<int>(devices.size()));
      return group->communicators();
    }
    case Backend::Nccl: {
      SDD_USER_CHECK(all_cuda, "the NCCL communicator needs every replica on a CUDA device");
#ifdef SDD_HAVE_CUDA
      std::vector<int> ids;
      for (const Device& d : devices) ids.push_back(d.index);
      return NcclCommunicator::create_local(ids);
#else
      SDD_USER_FAIL("this sparsedd was built without CUDA, so without NCCL: use the inprocess communicator");
#endif
    }
    case Backend::Mpi:
      SDD_USER_FAIL("the MPI communicator connects processes (one replica each): start with mpirun and use "
                    "make_process_communicator");
    default: break;
  }
  SDD_FAIL("unhandled backend " << backend_str(backend));
}

std::unique_ptr<Communicator> make_process_communicator(Device device, Backend backend) {
  if (backend == Backend::Auto) {
    if (!launched_under_mpi() || !backend_built(Backend::Mpi)) return std::make_unique<SingleCommunicator>();
    backend = (device.is_cuda() && backend_built(Backend::Nccl)) ? Backend::Nccl : Backend::Mpi;
  }
  switch (backend) {
    case Backend::Single: return std::make_unique<SingleCommunicator>();
    case Backend::Mpi:
#ifdef SDD_HAVE_MPI
      return std::make_unique<MpiCommunicator>();
#else
      SDD_USER_FAIL("this sparsedd was built without MPI: install libopenmpi-dev and rebuild, or run one process");
#endif
    case Backend::Nccl:
      SDD_USER_CHECK(device.is_cuda(), "the NCCL communicator needs a CUDA device, got " << device.str());
#ifdef SDD_HAVE_CUDA
      return NcclCommunicator::create_with_mpi(device.index);
#else
      SDD_USER_FAIL("this sparsedd was built without CUDA, so without NCCL: use the mpi communicator");
#endif
    case Backend::InProcess:
      SDD_USER_FAIL("the inprocess communicator connects threads of one process: use make_local_communicators");
    default: break;
  }
  SDD_FAIL("unhandled backend " << backend_str(backend));
}

}  // namespace sdd::dist

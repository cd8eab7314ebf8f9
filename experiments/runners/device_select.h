// experiments/runners/device_select.h — the training devices from --device / --gpu (SPEC 1.3, DESIGN
// rule 4 and section 4 items 22 and 30): without any CUDA device a request for one warns once and the
// CPU is used (the original's behaviour); --gpu listing more GPUs than exist, or --device cuda:N past
// the last one, is a UserError naming what was found.
//
// Data parallelism (experiments/train/replicas.h):
//   select_devices   every device of one process: each GPU of --gpu=0,1,2,3 (one replica each), every
//                    visible GPU without --gpu, one CPU otherwise (SPARSEDD_CPU_REPLICAS=N asks for N
//                    in-process CPU replicas instead, for tests and experiments without a GPU).
//   process_device   under mpirun (one replica per process): GPU `local rank` of the listed / visible
//                    GPUs, or the CPU when there is none.
#pragma once
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "engine/device.h"

namespace sdd::exp {

// `device` (--device), `gpu` (--gpu, comma-separated indices), `cuda_count` (cuda_device_count()).
// Warnings go to `warn`. The first of select_devices().
Device select_device(const std::optional<std::string>& device, const std::optional<std::string>& gpu, int cuda_count,
                     std::ostream& warn);

// Every device one process trains on (see the top); `cpu_replicas` is SPARSEDD_CPU_REPLICAS (0 or 1:
// one CPU replica) and only counts when the result is the CPU.
std::vector<Device> select_devices(const std::optional<std::string>& device, const std::optional<std::string>& gpu,
                                   int cuda_count, std::ostream& warn, int cpu_replicas = 0);

// The device of MPI process `local_rank` (its rank on this node) among select_devices(): devices[local_rank]
// for GPUs (UserError when the node runs more ranks than GPUs listed), the CPU for a CPU list.
Device process_device(const std::vector<Device>& devices, int local_rank);

// This process's rank on its node from the launcher's environment (OMPI_COMM_WORLD_LOCAL_RANK,
// MPI_LOCALRANKID, PMI_LOCAL_RANK, SLURM_LOCALID, first found), 0 when none is set.
int launcher_local_rank();

// SPARSEDD_CPU_REPLICAS as a count (0 when unset; UserError when not a positive integer).
int cpu_replicas_from_env();

}  // namespace sdd::exp

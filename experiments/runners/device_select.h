// experiments/runners/device_select.h — the training device from --device / --gpu (SPEC 1.3, DESIGN
// rule 4): without any CUDA device a request for one warns once and the CPU is used (the original's
// behaviour); --gpu listing more GPUs than exist, or --device cuda:N past the last one, is a UserError
// naming what was found. Data parallelism over several listed GPUs is not done here: the first is used.
#pragma once
#include <optional>
#include <ostream>
#include <string>

#include "engine/device.h"

namespace sdd::exp {

// `device` (--device), `gpu` (--gpu, comma-separated indices), `cuda_count` (cuda_device_count()).
// Warnings go to `warn`.
Device select_device(const std::optional<std::string>& device, const std::optional<std::string>& gpu, int cuda_count,
                     std::ostream& warn);

}  // namespace sdd::exp

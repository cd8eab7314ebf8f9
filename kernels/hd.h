// kernels/hd.h — SDD_HD marks element functors that run on the host and on the device
// (__host__ __device__ under nvcc, plain inline under g++), DESIGN rule 2.
#pragma once

#if defined(__CUDACC__)
#define SDD_HD __host__ __device__ __forceinline__
#else
#define SDD_HD inline
#endif

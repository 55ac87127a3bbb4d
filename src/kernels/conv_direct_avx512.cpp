// Direct stride-1 conv kernels for avx512 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/conv_direct_impl.h"
#include "kernels/simd/vec_avx512.h"

FAS_DEFINE_CONV_DIRECT(avx512, VecAvx512)

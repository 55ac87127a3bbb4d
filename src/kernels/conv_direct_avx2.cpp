// Direct stride-1 conv kernels for avx2 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/conv_direct_impl.h"
#include "kernels/simd/vec_avx2.h"

FAS_DEFINE_CONV_DIRECT(avx2, VecAvx2)

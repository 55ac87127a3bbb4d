// Pointwise conv kernel for avx512 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/conv1x1_impl.h"
#include "kernels/simd/vec_avx512.h"

FAS_DEFINE_CONV1X1(avx512, VecAvx512)

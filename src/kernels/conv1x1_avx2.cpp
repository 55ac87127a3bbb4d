// Pointwise conv kernel for avx2 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/conv1x1_impl.h"
#include "kernels/simd/vec_avx2.h"

FAS_DEFINE_CONV1X1(avx2, VecAvx2)

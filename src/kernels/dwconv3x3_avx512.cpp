// Depthwise 3x3 kernels for avx512 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/dwconv3x3_impl.h"
#include "kernels/simd/vec_avx512.h"

FAS_DEFINE_DWCONV3X3(avx512, VecAvx512)

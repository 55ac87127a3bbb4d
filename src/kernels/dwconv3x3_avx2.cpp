// Depthwise 3x3 kernels for avx2 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/dwconv3x3_impl.h"
#include "kernels/simd/vec_avx2.h"

FAS_DEFINE_DWCONV3X3(avx2, VecAvx2)

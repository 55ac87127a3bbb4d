// Depthwise 3x3 kernels for neon (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/dwconv3x3_impl.h"
#include "kernels/simd/vec_neon.h"

FAS_DEFINE_DWCONV3X3(neon, VecNeon)

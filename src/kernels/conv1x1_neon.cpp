// Pointwise conv kernel for neon (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/conv1x1_impl.h"
#include "kernels/simd/vec_neon.h"

FAS_DEFINE_CONV1X1(neon, VecNeon)

// Direct stride-1 conv kernels for neon (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/conv_direct_impl.h"
#include "kernels/simd/vec_neon.h"

FAS_DEFINE_CONV_DIRECT(neon, VecNeon)

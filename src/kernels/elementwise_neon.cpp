// Elementwise kernels for neon (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/elementwise_impl.h"
#include "kernels/simd/vec_neon.h"
#include "kernels/simd/vec_scalar.h"

FAS_DEFINE_ELEMENTWISE(neon, VecNeon)

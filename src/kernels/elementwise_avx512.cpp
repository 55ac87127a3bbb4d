// Elementwise kernels for avx512 (this file gets the ISA's compile flags; see CMakeLists.txt).
#include "kernels/elementwise_impl.h"
#include "kernels/simd/vec_avx512.h"
#include "kernels/simd/vec_scalar.h"

FAS_DEFINE_ELEMENTWISE(avx512, VecAvx512)

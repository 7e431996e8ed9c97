/* Convolution kernels (contracts in conv.h), written once in conv_impl.h and
 * conv_gemm_impl.h for float64 and float32. Contraction stays off: the
 * matrix product rounds each product before adding it, in every build. */
#pragma GCC optimize("fp-contract=off")
#include "conv.h"

/* GCC's vector types for the product's register tiles; compilers without
 * them (MSVC), or CNET_NO_VECTOR_EXT, get plain loops that sum in the same
 * order. The AVX2 and AVX-512 paths are chosen at run time where the build
 * dispatches (cnet_common.h). */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT)
#define CNET_GEMM_VECTORS 1
#if defined(CNET_DISPATCHED)
#define CNET_GEMM_WIDE 1
#endif
#endif

#define CNET_TEMPLATE "conv_impl.h"
#include "float_kinds.h"
#undef CNET_TEMPLATE
#define CNET_TEMPLATE "conv_gemm_impl.h"
#include "float_kinds.h"

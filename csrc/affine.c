/* The fully connected layer's kernels (contracts in affine.h and affine_impl.h),
 * compiled for each (input, weight) type pair. */
/* No contraction of a*b + c into a fused multiply-add: the AVX-512F and AVX2
 * clones would round differently from the baseline ones. Comparisons may be
 * turned into vector selects (the clamps in the sigmoid's exp): cnet never
 * reads floating-point exception flags, and results do not change. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include "cnet_common.h"
#include "functions.h" /* CNET_ALWAYS_INLINE */
#include "elementwise.h" /* cnet_sigmoid_*: the chapter-4 hidden layer's epilogue */
#include "affine.h"
#include "nonzero_index.h"

/* GCC's vector types (any alignment of the element, CNET_AFFINE_VBYTES wide)
 * for the register tiles; compilers without them (MSVC), or
 * CNET_NO_VECTOR_EXT, get plain loops that sum in the same order. */
#ifdef CNET_AFFINE_VBYTES
typedef double af_vd __attribute__((vector_size(CNET_AFFINE_VBYTES), aligned(8)));
typedef float af_vf __attribute__((vector_size(CNET_AFFINE_VBYTES), aligned(4)));
#define AF_HAVE_VEC 1
#endif

#ifdef AF_HAVE_VEC
#define AF_VEC af_vd
#define AF_VL (CNET_AFFINE_VBYTES / 8)
#endif
#define XT float
#define WT double
#define AF(name) affine_##name##_xf_wd
#define AF_NZ cnet_nonzero_index_f32
#define AF_SIGMOID cnet_sigmoid_f64
#include "affine_impl.h"
#undef XT
#undef AF

#undef AF_NZ
#define XT double
#define AF(name) affine_##name##_xd_wd
#define AF_NZ cnet_nonzero_index_f64
#include "affine_impl.h"
#undef AF_NZ
#undef AF_SIGMOID
#undef XT
#undef WT
#undef AF
#undef AF_VEC
#undef AF_VL

#ifdef AF_HAVE_VEC
#define AF_VEC af_vf
#define AF_VL (CNET_AFFINE_VBYTES / 4)
#endif
#define XT float
#define WT float
#define AF(name) affine_##name##_xf_wf
#define AF_NZ cnet_nonzero_index_f32
#define AF_SIGMOID cnet_sigmoid_f32
#include "affine_impl.h"
#undef AF_NZ
#undef AF_SIGMOID
#undef XT
#undef WT
#undef AF
#undef AF_VEC
#undef AF_VL

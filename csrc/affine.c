/* The fully connected layer's kernels (contracts in affine.h and affine_impl.h),
 * compiled for each (input, weight) type pair. */
#include "cnet_common.h"
#include "functions.h" /* CNET_ALWAYS_INLINE */
#include "affine.h"
#include "nonzero_index.h"

/* GCC's vector types (32 bytes, any alignment of the element) for the register
 * tiles; compilers without them (MSVC), or CNET_NO_VECTOR_EXT, get plain loops
 * that sum in the same order. */
#if (defined(__GNUC__) || defined(__clang__)) && !defined(CNET_NO_VECTOR_EXT)
typedef double af_vd __attribute__((vector_size(32), aligned(8)));
typedef float af_vf __attribute__((vector_size(32), aligned(4)));
#define AF_HAVE_VEC 1
#endif

#ifdef AF_HAVE_VEC
#define AF_VEC af_vd
#define AF_VL 4
#endif
#define XT float
#define WT double
#define AF(name) affine_##name##_xf_wd
#define AF_NZ cnet_nonzero_index_f32
#include "affine_impl.h"
#undef XT
#undef AF

#undef AF_NZ
#define XT double
#define AF(name) affine_##name##_xd_wd
#define AF_NZ cnet_nonzero_index_f64
#include "affine_impl.h"
#undef AF_NZ
#undef XT
#undef WT
#undef AF
#undef AF_VEC
#undef AF_VL

#ifdef AF_HAVE_VEC
#define AF_VEC af_vf
#define AF_VL 8
#endif
#define XT float
#define WT float
#define AF(name) affine_##name##_xf_wf
#define AF_NZ cnet_nonzero_index_f32
#include "affine_impl.h"
#undef AF_NZ
#undef XT
#undef WT
#undef AF
#undef AF_VEC
#undef AF_VL

/* The book's TwoLayerNet as fused kernels (contracts in two_layer.h).
 * The bodies live in two_layer_impl.h and are compiled here once per
 * (x type, weight type) pair. */
/* Comparisons may be turned into vector selects (the clamps in exp): cnet
 * never reads floating-point exception flags, and results do not change.
 * No contraction of a*b + c into a fused multiply-add: the AVX-512F clones
 * would then round differently from the AVX2 and baseline ones. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#else
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnet_common.h"
#include "config.h" /* cnet_thread_num */
#include "elementwise.h" /* cnet_sigmoid_*, cnet_sigmoid_grad_y_* */
#include "exp_log.h"     /* cnet_ce_term_* */
#include "softmax_rows.h" /* cnet_sm_*: the softmax row steps */
#include "nonfinite.h"
#include "two_layer.h"
#include "affine.h" /* affine_forward_chunk_*: the hidden layer; affine_grad_b_*: the bias gradients */

/* Lanes of the fully connected layer's vectors (CNET_AFFINE_VBYTES, affine.h)
 * for the weights' type: the padding of the output layer's columns and of
 * dz1's rows (TL_VL, undefined without vector types). */

/* Columns of x (rows of gW1) per work unit of xᵀ·dz1: a multiple of 8, so
 * that the AVX2 scans (8 or 4 inputs a step) meet every block's first column.
 * Each row's part of a block ends in a mispredicted loop exit when the block's
 * lists are made: blocks of 112 columns made the gradient of 100 MNIST images
 * 1-4 % faster than blocks of 56 (both variants in one process, alternating
 * calls). */
#define TL_IBLK 112

/* Entries of a row's starts: one per block of I columns, then the count. */
#define TL_NSTARTS(I) (((I) + TL_IBLK - 1) / TL_IBLK + 1)

/* W1 is checked for inf and NaN (nonfinite.h) once per call, in blocks of
 * TL_CHECK values shared by the threads. */
#define TL_CHECK 4096

/* --- scratch memory ----------------------------------------------------------
 * Each kernel takes its scratch as one block from the caller, who keeps it
 * from call to call (two_layer.h); the kernel carves its arrays from it. */

/* Bytes a kernel asks for beyond its arrays, to align the block's start. */
#define TL_ALIGN 64

/* The first TL_ALIGN-aligned address in a block at p. */
static char *tl_aligned(void *p)
{
    return (char *)(((uintptr_t)p + (TL_ALIGN - 1)) & ~(uintptr_t)(TL_ALIGN - 1));
}

/* The thread count a kernel and its scratch size use: nthreads, at least 1. */
static int tl_threads(int nthreads)
{
    return nthreads < 1 ? 1 : nthreads;
}

/* An array of the given bytes at base + *off, and *off moved past it, rounded
 * up to whole cache lines: every array starts aligned, and no two threads'
 * arrays share a line. With base NULL, only *off moves (the sizes are
 * counted by the same code that carves). */
static void *tl_carve(char *base, size_t *off, size_t bytes)
{
    void *p = base ? base + *off : NULL;
    *off += (bytes + TL_ALIGN - 1) & ~(size_t)(TL_ALIGN - 1);
    return p;
}

/* Batch rows handled together by one register tile (the dense path's x·W1,
 * where each W1 row loaded serves them all, and the output layer), and rows
 * per chunk of work handed to a thread (each block of W1 the hidden layer
 * reads into L1 serves a chunk's rows: 16 rows gave a 100-image gradient
 * on two threads in 136 us, 8 rows in 138 us). */
#define TL_RB CNET_AFFINE_RB
#define TL_RC CNET_AFFINE_RC

#define XT float
#define WT float
#define TL(name) tl_##name##_xf_wf
#define TL_NONFINITE cnet_any_nonfinite_f32
#define TL_SIGMOID_GRAD_Y cnet_sigmoid_grad_y_f32
#define TL_SM(step) cnet_sm_##step##_f32
#define TL_CE_TERM cnet_ce_term_f32
#define TL_GRAD_B affine_grad_b_xf_wf
#define TL_AFFINE(name) affine_##name##_xf_wf
#ifdef CNET_AFFINE_VBYTES
#define TL_VL (CNET_AFFINE_VBYTES / 4)
#endif
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_NONFINITE
#undef TL_SIGMOID_GRAD_Y
#undef TL_SM
#undef TL_CE_TERM
#undef TL_GRAD_B
#undef TL_AFFINE
#undef TL_VL

#define XT float
#define WT double
#define TL(name) tl_##name##_xf_wd
#define TL_NONFINITE cnet_any_nonfinite_f64
#define TL_SIGMOID_GRAD_Y cnet_sigmoid_grad_y_f64
#define TL_SM(step) cnet_sm_##step##_f64
#define TL_CE_TERM cnet_ce_term_f64
#define TL_GRAD_B affine_grad_b_xf_wd
#define TL_AFFINE(name) affine_##name##_xf_wd
#ifdef CNET_AFFINE_VBYTES
#define TL_VL (CNET_AFFINE_VBYTES / 8)
#endif
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_NONFINITE
#undef TL_SIGMOID_GRAD_Y
#undef TL_SM
#undef TL_CE_TERM
#undef TL_GRAD_B
#undef TL_AFFINE
#undef TL_VL

#define XT double
#define WT double
#define TL(name) tl_##name##_xd_wd
#define TL_NONFINITE cnet_any_nonfinite_f64
#define TL_SIGMOID_GRAD_Y cnet_sigmoid_grad_y_f64
#define TL_SM(step) cnet_sm_##step##_f64
#define TL_CE_TERM cnet_ce_term_f64
#define TL_GRAD_B affine_grad_b_xf_wd
#define TL_AFFINE(name) affine_##name##_xd_wd
#ifdef CNET_AFFINE_VBYTES
#define TL_VL (CNET_AFFINE_VBYTES / 8)
#endif
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_NONFINITE
#undef TL_SIGMOID_GRAD_Y
#undef TL_SM
#undef TL_CE_TERM
#undef TL_GRAD_B
#undef TL_AFFINE
#undef TL_VL

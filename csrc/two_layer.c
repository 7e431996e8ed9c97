/* The book's TwoLayerNet as fused kernels (contracts in two_layer.h).
 * The bodies live in two_layer_impl.h and are compiled here once per
 * (x type, weight type) pair. */
#include <math.h>
#include <stdlib.h>

#include "cnet_common.h"
#include "two_layer.h"

/* Batch rows handled together by one thread: each W1 row loaded serves them all. */
#define TL_RB 4

#define XT float
#define WT float
#define TL(name) tl_##name##_xf_wf
#define TL_EXP expf
#define TL_LOG logf
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_EXP
#undef TL_LOG

#define XT float
#define WT double
#define TL(name) tl_##name##_xf_wd
#define TL_EXP exp
#define TL_LOG log
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_EXP
#undef TL_LOG

#define XT double
#define WT double
#define TL(name) tl_##name##_xd_wd
#define TL_EXP exp
#define TL_LOG log
#include "two_layer_impl.h"
#undef XT
#undef WT
#undef TL
#undef TL_EXP
#undef TL_LOG

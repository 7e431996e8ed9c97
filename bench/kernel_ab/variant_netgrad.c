/* One variant of the numerical-gradient kernel for kernel_ab: csrc/netgrad.c
 * compiled with its public names prefixed by VARIANT (A or B), in its own
 * object so that it keeps its own floating-point options. */
#define KAB_CAT2(a, b) a##b
#define KAB_CAT(a, b) KAB_CAT2(a, b)
#define cnet_numgrad_two_layer KAB_CAT(VARIANT, _numgrad_two_layer)
#define cnet_numgrad_new KAB_CAT(VARIANT, _numgrad_new)
#define cnet_numgrad_run KAB_CAT(VARIANT, _numgrad_run)
#define cnet_numgrad_free KAB_CAT(VARIANT, _numgrad_free)
#include "netgrad.c"

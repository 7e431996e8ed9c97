/* Convolution layout kernels (contracts in conv.h), written once in
 * conv_impl.h for float64 and float32. */
#include "conv.h"

#define CNET_TEMPLATE "conv_impl.h"
#include "float_kinds.h"

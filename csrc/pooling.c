/* Max pooling kernels (contracts in pooling.h), written once in
 * pooling_impl.h for float64 and float32. */
#include "pooling.h"

#define CNET_TEMPLATE "pooling_impl.h"
#include "float_kinds.h"

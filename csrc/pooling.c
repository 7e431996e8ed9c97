/* Max pooling kernels (contracts in pooling.h), written once in
 * pooling_impl.h for float64 and float32. */
#include <string.h>
#include "pooling.h"

/* Unsigned integers as wide as each element type (pooling_impl.h selects
 * with bit masks). */
typedef uint64_t cnet_bits_f64;
typedef uint32_t cnet_bits_f32;

#define CNET_TEMPLATE "pooling_impl.h"
#include "float_kinds.h"

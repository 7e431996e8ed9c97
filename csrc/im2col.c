/* im2col / col2im kernels (contracts in im2col.h), written once in
 * im2col_impl.h for float64 and float32. */
#include "im2col.h"

#define CNET_TEMPLATE "im2col_impl.h"
#include "float_kinds.h"

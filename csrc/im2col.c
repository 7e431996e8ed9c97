/* im2col / col2im kernels (contracts in im2col.h). The body is written once in
 * im2col_impl.h and instantiated here for float64 and float32. */
#include "im2col.h"

#define CNET_T double
#define CNET_SFX(name) name##_f64
#include "im2col_impl.h"
#undef CNET_T
#undef CNET_SFX

#define CNET_T float
#define CNET_SFX(name) name##_f32
#include "im2col_impl.h"
#undef CNET_T
#undef CNET_SFX

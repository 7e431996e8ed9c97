/* Max pooling kernels (contracts in pooling.h). The body is written once in
 * pooling_impl.h and instantiated here for float64 and float32. */
#include "pooling.h"

#define CNET_T double
#define CNET_SFX(name) name##_f64
#include "pooling_impl.h"
#undef CNET_T
#undef CNET_SFX

#define CNET_T float
#define CNET_SFX(name) name##_f32
#include "pooling_impl.h"
#undef CNET_T
#undef CNET_SFX

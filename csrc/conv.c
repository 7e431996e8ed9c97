/* Convolution layout kernels (contracts in conv.h), instantiated for float64
 * and float32 from conv_impl.h. */
#include "conv.h"

#define CNET_T double
#define CNET_SFX(name) name##_f64
#include "conv_impl.h"
#undef CNET_T
#undef CNET_SFX

#define CNET_T float
#define CNET_SFX(name) name##_f32
#include "conv_impl.h"
#undef CNET_T
#undef CNET_SFX

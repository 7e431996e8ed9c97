/* Instantiates the kernel body in the header named by CNET_TEMPLATE twice:
 * for float64 (CNET_T double, names suffixed _f64) and float32 (CNET_T
 * float, _f32). A .c file defines CNET_TEMPLATE and includes this file. */
#define CNET_T double
#define CNET_SFX(name) name##_f64
#include CNET_TEMPLATE
#undef CNET_T
#undef CNET_SFX

#define CNET_T float
#define CNET_SFX(name) name##_f32
#include CNET_TEMPLATE
#undef CNET_T
#undef CNET_SFX

/* IEEE half precision (float16), carried as its uint16_t bit pattern: exact
 * conversions to and from float, rounding as NumPy's astype does. */
#ifndef CNET_HALF_H
#define CNET_HALF_H

#include <string.h>
#include "cnet_common.h"

/* IEEE half (bits) to float: exact. */
CNET_INLINE float cnet_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, bits;
    float f;
    if (e == 0x1f) {
        bits = sign | 0x7f800000u | (m << 13); /* inf, or NaN keeping its payload */
    } else if (e == 0) {
        f = (float)m * 5.9604644775390625e-8f; /* subnormal: m * 2^-24, exact */
        memcpy(&bits, &f, 4);
        bits |= sign;
    } else {
        bits = sign | ((e + 112u) << 23) | (m << 13);
    }
    memcpy(&f, &bits, 4);
    return f;
}

/* float to IEEE half (bits), rounding to nearest even as NumPy's astype does. */
CNET_INLINE uint16_t cnet_float_to_half(float f)
{
    uint32_t x, sign, absx, h, rem;
    memcpy(&x, &f, 4);
    sign = (x >> 16) & 0x8000u;
    absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) /* inf, NaN (kept quiet, top payload bits kept) */
        return (uint16_t)(sign | 0x7c00u |
                          (absx > 0x7f800000u ? 0x200u | ((absx >> 13) & 0x3ffu) : 0u));
    if (absx >= 0x477ff000u) /* >= 65520 rounds past the largest half, 65504 */
        return (uint16_t)(sign | 0x7c00u);
    if (absx < 0x38800000u) { /* below 2^-14: a half subnormal, or zero */
        uint32_t e = absx >> 23, m, shift, halfway;
        if (absx <= 0x33000000u) /* <= 2^-25: ties to the even zero */
            return (uint16_t)sign;
        m = (absx & 0x7fffffu) | 0x800000u;
        shift = 126u - e; /* value in units of 2^-24 is m >> shift; e in 102..112 */
        h = m >> shift;
        rem = m & ((1u << shift) - 1u);
        halfway = 1u << (shift - 1u);
        if (rem > halfway || (rem == halfway && (h & 1u)))
            h++;
        return (uint16_t)(sign | h);
    }
    h = (absx - 0x38000000u) >> 13; /* rebias the exponent from 127 to 15 */
    rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* a carry into the exponent is the correct rounding */
    return (uint16_t)(sign | h);
}

/* f rounded to the nearest half and widened back: one step of NumPy's float16
 * arithmetic. */
CNET_INLINE float cnet_round_half(float f) { return cnet_half_to_float(cnet_float_to_half(f)); }

#endif

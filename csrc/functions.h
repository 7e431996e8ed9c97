/* The kernels of the book's common/functions.py, by operation family:
 *   exp_log.h      the one vectorisable exp, the cross-entropy log term;
 *   half.h         float16 <-> float conversions;
 *   elementwise.h  sigmoid, sigmoid_grad, relu, relu_grad;
 *   softmax.h      softmax rows, the cross-entropy losses and the fused
 *                  softmax + cross-entropy + dy of SoftmaxWithLoss (their row
 *                  steps, shared with the networks, in softmax_rows.h);
 *   sum_squared.h  sum_squared_error's fixed-order lanes.
 * Every kernel is serial and works on pointers + sizes; the caller (Cython)
 * splits the work into fixed blocks across threads, so each output element,
 * and each block partial of a reduction, is computed by the same code whatever
 * the thread count. Strides are in elements, not bytes. */
#ifndef CNET_FUNCTIONS_H
#define CNET_FUNCTIONS_H

#include "cnet_common.h"
#include "exp_log.h"
#include "half.h"
#include "elementwise.h"
#include "softmax.h"
#include "sum_squared.h"

#endif

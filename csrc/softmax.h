/* Softmax along rows, the book's cross-entropy, and the fused softmax +
 * cross-entropy + dy of SoftmaxWithLoss: float64 and float32 (float16, carried
 * as its bits, has softmax and the two losses, each step rounded as NumPy).
 *
 * Dimension letters: R rows (the batch), C columns (classes). A row r is
 * x[r * xrs + j * xcs] for j < C: strides are in elements, rs between rows,
 * cs between columns.
 *
 * Every softmax row is formed one way, by the row steps of softmax_rows.h
 * (the same ones TwoLayerNet and the numerical gradient use); so softmax, the
 * fused loss, and a long row split across threads (the row pieces at the end)
 * give the same bits. float16 keeps the book's division. Every kernel is
 * serial: the caller splits rows.
 */
#ifndef CNET_SOFTMAX_H
#define CNET_SOFTMAX_H

#include <stddef.h>
#include <stdint.h>

/* Rows of at most CNET_SOFTMAX_SHORT columns are formed CNET_SOFTMAX_CHUNK
 * entries at a time, their exps in one flat loop. */
#define CNET_SOFTMAX_SHORT 256
#define CNET_SOFTMAX_CHUNK 2048

/* The fused kernel, for R rows of C >= 1:
 *   x   (R, C) IN   scores;
 *   y   (R, C) OUT  softmax rows, or NULL: then nothing is stored, the
 *                   picked y[r, lab[r]] is formed alone (bits as if stored),
 *                   and dy must be NULL;
 *   lab (R,)   IN   class of each row in [0, C), or NULL: no loss, no dy;
 *   t   (R, C) IN   one-hot rows for dy, or NULL: dy uses the one-hot of lab;
 *   dy  (R, C) OUT  (y - t) / N, the book's SoftmaxWithLoss.backward, or NULL.
 * Returns acc + the sum, row after row, of log(y[r, lab[r]] + 1e-7) (the
 * book's term in T, summed in double); acc itself when lab is NULL. */
double cnet_softmax_ce_f64(size_t R, size_t C, const double *x, ptrdiff_t xrs,
                           ptrdiff_t xcs, double *y, ptrdiff_t yrs, ptrdiff_t ycs,
                           const ptrdiff_t *lab, const double *t, ptrdiff_t trs,
                           ptrdiff_t tcs, double *dy, ptrdiff_t dyrs, ptrdiff_t dycs,
                           double N, double acc);
double cnet_softmax_ce_f32(size_t R, size_t C, const float *x, ptrdiff_t xrs,
                           ptrdiff_t xcs, float *y, ptrdiff_t yrs, ptrdiff_t ycs,
                           const ptrdiff_t *lab, const float *t, ptrdiff_t trs,
                           ptrdiff_t tcs, float *dy, ptrdiff_t dyrs, ptrdiff_t dycs,
                           double N, double acc);

/* dy = (y - t) / N over R rows of C, the dy rows of the fused kernel from a
 * stored softmax: y (R, C) IN; t (R, C) IN one-hot rows, or NULL with lab (R,)
 * IN the classes; dy (R, C) OUT (may be y itself). */
void cnet_softmax_ce_dy_f64(size_t R, size_t C, const double *y, ptrdiff_t yrs,
                            ptrdiff_t ycs, const ptrdiff_t *lab, const double *t,
                            ptrdiff_t trs, ptrdiff_t tcs, double *dy, ptrdiff_t dyrs,
                            ptrdiff_t dycs, double N);
void cnet_softmax_ce_dy_f32(size_t R, size_t C, const float *y, ptrdiff_t yrs,
                            ptrdiff_t ycs, const ptrdiff_t *lab, const float *t,
                            ptrdiff_t trs, ptrdiff_t tcs, float *dy, ptrdiff_t dyrs,
                            ptrdiff_t dycs, double N);

/* The book's cross_entropy_error over given probabilities: acc + the sum, row
 * after row, of log(p[r, lab[r]] + 1e-7); p (R, C) IN (only the picked entries
 * are read, so C is not needed), lab (R,) IN in [0, C). The same term as the
 * fused kernel's. */
double cnet_ce_sum_f64(size_t R, const double *p, ptrdiff_t prs, ptrdiff_t pcs,
                       const ptrdiff_t *lab, double acc);
double cnet_ce_sum_f32(size_t R, const float *p, ptrdiff_t prs, ptrdiff_t pcs,
                       const ptrdiff_t *lab, double acc);
double cnet_ce_sum_f16(size_t R, const uint16_t *p, ptrdiff_t prs, ptrdiff_t pcs,
                       const ptrdiff_t *lab, double acc);

/* float16: y = softmax(x) over R rows of C (x, y (R, C)), and acc + the sum of
 * the cross-entropy terms of softmax(x) at lab (R,) without storing the rows. */
void cnet_softmax_f16(size_t R, size_t C, const uint16_t *x, ptrdiff_t xrs, ptrdiff_t xcs,
                      uint16_t *y, ptrdiff_t yrs, ptrdiff_t ycs);
double cnet_softmax_ce_f16(size_t R, size_t C, const uint16_t *x, ptrdiff_t xrs,
                           ptrdiff_t xcs, const ptrdiff_t *lab, double acc);

/* The pieces of one long row (C,), for splitting it across threads:
 * cnet_row_max_*: max of x IN (NaN entries passed over unless the first is
 * one: they make the block's sum NaN); cnet_softmax_block_*: for
 * C <= CNET_REDUCE_BLOCK, y = exp(x - m) OUT and its sum (returned);
 * cnet_row_scale_*: y *= 1 / s IN/OUT. A row cut into blocks of CNET_REDUCE_BLOCK,
 * its block sums added in order, gives the bits of cnet_softmax_ce_*. */
double cnet_row_max_f64(const double *x, ptrdiff_t xcs, size_t C);
float cnet_row_max_f32(const float *x, ptrdiff_t xcs, size_t C);
double cnet_softmax_block_f64(const double *x, ptrdiff_t xcs, double *y, ptrdiff_t ycs,
                              size_t C, double m);
float cnet_softmax_block_f32(const float *x, ptrdiff_t xcs, float *y, ptrdiff_t ycs,
                             size_t C, float m);
void cnet_row_scale_f64(double *y, ptrdiff_t ycs, size_t C, double s);
void cnet_row_scale_f32(float *y, ptrdiff_t ycs, size_t C, float s);

#endif

/* The book's numerical gradient of the chapter-4 TwoLayerNet, computed the
 * incremental way.
 *
 * The book perturbs one parameter theta_k at a time, stores v + h (then v - h)
 * in its array, runs the whole network twice and takes
 *     grad_k = (f(theta + h e_k) - f(theta - h e_k)) / (2 h),   h = 1e-4,
 * with f the batch loss -sum_b log(y[b, t_b] + 1e-7) / B. Here the same two
 * losses are evaluated, but only where the parameter reaches:
 *   W1[i, j]  hidden unit j of the rows b with x[b, i] != 0, then those rows'
 *             outputs and losses;
 *   b1[j]     hidden unit j of every row (a column of ones in x, in effect);
 *   W2[j, o], b2[o]  output o of every row.
 * Every other row's loss is bit-for-bit unchanged in the book's computation
 * too (x[b, i] * (v + h) is 0 when x[b, i] is 0), so
 *     f+ - f- = sum over the reached rows of (L_b+ - L_b-) / B,
 * summed as such rather than as the difference of two totals near 2.3. Each
 * L_b+ - L_b is computed as a change, never as a difference of two losses, so
 * it keeps full relative precision; L_b+ - L_b- then adds two terms of
 * opposite sign without cancellation.
 *
 * The perturbation applied is the one the book's array holds: fl(v + h) - v
 * and fl(v - h) - v (rounded to float32 the way NumPy stores it for float32
 * parameters), not exactly +-h. The O(h^2) part of the central difference
 * (h^2/6 f''' for even perturbations) is kept: every step below is the exact
 * function of the perturbation, to rounding, never a derivative formula.
 *
 * Change of one row's loss. With y the row's softmax, t its label,
 * c = 1e-7, kappa = y_t / (y_t + c), kappac = c / (y_t + c), a change d of the
 * row's output scores a2 gives E_o = expm1(d_o), Q = sum_o y_o E_o,
 * y'_t = y_t (1 + E_t) / (1 + Q), and so
 *     L' - L = log1p(Q) - log1p(A),   A = kappa E_t + kappac Q.
 *
 * Series instead of transcendentals (W1 and b1). Moving W1[i, j] moves the
 * pre-activation a1[b, j] by delta = x[b, i] (fl(v +- h) - v), at most about
 * 1e-4 for MNIST inputs. Row b's loss change is then an analytic function of
 * delta alone,
 *     G(delta) = P(s(delta)),  s(delta) = sigmoid(a1 + delta) - sigmoid(a1),
 *     P(s) = log1p(Q(s)) - log1p(A(s)),  d_o = s W2[j, o],
 * whose Taylor coefficients g_1..g_5 are computed once per (row, hidden unit)
 * from the cached activations (Taylor arithmetic in ng_forward_row). Each
 * parameter then costs, per reached row, G5(delta+) - G5(delta-) with G5 the
 * degree-5 Taylor polynomial: two short Horner chains, no exp or log.
 *
 * Truncation bound for G (eps = 2^-53). Let W = max |W2|, sigma' = sigma'(a1),
 * and measure errors against 2 |m| W sigma', m = (delta+ - delta-) / 2: the
 * first-order size of G(delta+) - G(delta-), and the size of the terms
 * y_o E_o that a direct libm evaluation would round.
 * 1. P. For complex |s| <= 1/W, |d_o| <= 1, so Re e^(d_o) >= e^-1 cos 1 = 0.199
 *    and |e^(d_o)| <= e. 1 + Q and 1 + A are averages of such e^(d_o) (weights
 *    y_o, resp. kappa and kappac, summing to 1), so they lie in the right half
 *    plane with modulus in [0.199, e], and |log1p(Q)|, |log1p(A)| <=
 *    |(1.615, pi/2)| = 2.253: |P| <= 4.506, hence (Cauchy) |P_k| <= 4.506 W^k
 *    and |P(s)| <= 4.506 W|s| / (1 - W|s|).
 * 2. s. sigma'(a + w) / sigma'(a) = (cosh(w/2) + tanh(a/2) sinh(w/2))^-2 and
 *    for complex |w| <= rho <= 1/2, |cosh(w/2)| >= cos(rho/2),
 *    |sinh(w/2)| <= sinh(rho/2), |tanh(a/2)| < 1 for real a; so
 *    |s(delta)| <= rho sigma' (cos(1/4) - sinh(1/4))^-2 = 1.949 rho sigma'
 *    on |delta| <= rho.
 * 3. G. Take rho = min(1/2, 1/W). With sigma' <= 1/4, W |s| <= 0.4873 on
 *    |delta| <= rho, so |G| <= 4.506 * 1.949 / 0.5127 W rho sigma' =
 *    17.13 W rho sigma' and |g_k| <= 17.13 W sigma' rho^(1-k).
 * 4. Tail. With delta+- = d +- m and r = |m| + |d|: for odd k,
 *    |delta+^k - delta-^k| <= 2 r^k; for even k the odd powers of m cancel
 *    pairwise and |delta+^k - delta-^k| <= 2 k |d| r^(k-1). Relative to
 *    2 |m| W sigma', the dropped terms (k >= 6) are at most
 *      17.13 [ (rho/|m|) (r/rho)^7 / (1 - (r/rho)^2)
 *              + (|d|/|m|) sum_{k>=6 even} k (r/rho)^(k-1) ].
 *    Under r <= 2^-11 rho (i.e. r <= 2^-12 and W r <= 2^-11) and
 *    |d| <= 2^-7 |m| this is below 2.3e-19 + 0.81 * 2^-55 < 2^-55.
 *    For float64 weights |d| / |m| is about eps |v| / h, for float32 ones
 *    about 2^-24 |v| / h: the condition holds unless |v| is above ~10.
 * Rows or columns outside these ranges (large inputs, large weights) take the
 * exact formulas with libm (expm1, log1p), and a change of an output above
 * 1/2 recomputes the row's softmax and loss as the book does.
 *
 * W2 and b2 move a single output of every row by d = z1[b, j] (fl(v +- h) - v)
 * (z1 = 1 for b2): expm1(d) = sum_{k=1..5} d^k / k! with relative tail
 * <= |d|^5 / 720 / (1 - |d|), and log1p(w) = sum_{k=1..5} (-1)^(k+1) w^k / k
 * with relative tail <= |w|^5 / 6 / (1 - |w|); for |d| <= 2^-12 (so
 * |Q|, |A| <= |E| < 2^-11) both are below 1e-18.
 *
 * Loss precision: always float64, also for float32 parameters (their float32
 * values, perturbed as float32 arrays store them, are exact in double).
 *
 * Threads: the parameters are split across threads, each gradient entry is
 * computed by one thread summing its rows in a fixed order, so the result is
 * bit-identical for any thread count. The hot loops are compiled per SIMD
 * level with fused multiply-add (CNET_DISPATCH_FMA): machines of different
 * levels may differ in the last bits, far below the stated accuracy.
 */
/* The shared exp's clamps become vector selects only when operations may be
 * assumed not to trap (exp_log.h); cnet never reads the flags. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnet_common.h"
#include "config.h"
#include "elementwise.h"  /* cnet_sigmoid_f64 */
#include "exp_log.h"      /* cnet_ce_term_f64 */
#include "netgrad.h"
#include "affine.h" /* affine_forward_rows_*, affine_column_*: the layers' products */
#include "softmax_rows.h" /* cnet_sm_*_f64: the softmax row steps */

#define NG_H 1e-4                 /* the book's h */
#define NG_C 1e-7                 /* the book's 1e-7 inside the log */
#define NG_K 5                    /* degree of every series */
#define NG_R_MAX 0.000244140625   /* 2^-12: range of r = |m| + |d| for G's series */
#define NG_WR_MAX 0.00048828125   /* 2^-11: range of W r */
#define NG_D_OVER_M 0.0078125     /* 2^-7: largest |d| / |m| */
#define NG_D_MAX 0.000244140625   /* 2^-12: single-output series range */
#define NG_EXPM1_MAX 0.5          /* above: recompute the row's softmax */
#define NG_LANES 8                /* partial sums of the output-parameter loop */
#define NG_JB 8                   /* hidden units per register block of the W1 loop */

/* Everything about the unperturbed network the perturbed losses are built from. */
struct cnet_numgrad {
    ptrdiff_t B, I, H, O;
    const void *x;      /* (B, I) the batch, float32 when x_f32 */
    int x_f32, params_f32;
    const intptr_t *t;
    const double *W1, *b1, *W2, *b2;
    int *colptr;        /* (I + 2) CSC of x's non-zeros: column i is
                           colptr[i]..colptr[i+1]-1; column I is b1's column of ones */
    int *crow;          /* (nnz + B) batch row of each CSC entry, ascending per column */
    double *cval;       /* (nnz + B) x[b, i] of each CSC entry */
    int nthreads;       /* threads the per-thread scratch was carved for */
    char *per_thread;   /* their scratch, NG_THREAD_BYTES(I, H, O) each */
    double *a1, *z1, *zc; /* (B, H) x W1 + b1, sigmoid(a1), 1 - sigmoid(a1) = sigmoid(-a1) */
    double *g;          /* (B, 5, H) Taylor coefficients g_1..g_5 of G per hidden unit */
    double *a2, *y;     /* (B, O) output scores and softmax */
    double *kap, *kapc, *Lb; /* (B) kappa, kappac, the row's loss -log(y_t + c) */
    double *yT, *ktT;   /* (O, B) y transposed, kappa_b where t_b = o else 0 */
    double *z1T;        /* (H + 1, B) z1 transposed, then a row of ones for b2 */
    double *W2T;        /* (O, H) W2 transposed */
    double wmax;        /* max |W2| (NaN if W2 holds one) */
};
typedef struct cnet_numgrad ng_net;

/* The perturbations the book's array applies to a value v: fl(v + h) - v and
 * fl(v - h) - v. A float32 array stores float(v) + h rounded to float32, and
 * v - h is computed in float32 (NumPy's rule for float32 scalar - float). */
CNET_INLINE void ng_perturb(double v, int f32, double *dp, double *dm)
{
    if (f32) {
        double up = (double)(float)(v + NG_H);
        double down = (double)((float)v - (float)NG_H);
        *dp = up - v;
        *dm = down - v;
    } else {
        double up = v + NG_H;
        double down = v - NG_H;
        *dp = up - v;
        *dm = down - v;
    }
}

/* z = sigmoid(a) and zc = sigmoid(-a) = 1 - z, each to full relative
 * precision: the shared sigmoid of a and of -a. */
CNET_ALWAYS_INLINE void ng_sigmoid_pair(double a, double *z, double *zc)
{
    *z = cnet_sigmoid_f64(a);
    *zc = cnet_sigmoid_f64(-a);
}

/* sigmoid(a + d) - sigmoid(a) to full relative precision, z = sigmoid(a),
 * zc = sigmoid(-a): sigmoid(u) - sigmoid(v) = sigmoid(u) (1 - sigmoid(v)) (1 - e^(v-u)). */
static double ng_sigmoid_shift(double a, double z, double zc, double d)
{
    if (d >= 0)
        return cnet_sigmoid_f64(a + d) * zc * -expm1(-d);
    return z * cnet_sigmoid_f64(-(a + d)) * expm1(d);
}

/* Row b's loss change for a change d (O) of its output scores (IN, then
 * overwritten), with libm. */
static double ng_row_dloss_exact(const ng_net *n, ptrdiff_t b, double *d)
{
    const ptrdiff_t O = n->O;
    const double *y = n->y + b * O;
    const ptrdiff_t t = (ptrdiff_t)n->t[b];
    double dmax = 0.0;
    ptrdiff_t o;
    for (o = 0; o < O; o++) {
        double ad = fabs(d[o]);
        dmax = (ad > dmax || ad != ad) ? ad : dmax;
    }
    if (dmax <= NG_EXPM1_MAX) {
        double Q = 0.0, A;
        for (o = 0; o < O; o++)
            Q += y[o] * expm1(d[o]);
        A = n->kap[b] * expm1(d[t]) + n->kapc[b] * Q;
        return log1p(Q) - log1p(A);
    } else {
        /* A large change (or a NaN): the row's softmax and loss term
         * recomputed, as the forward pass forms them. */
        const double *a2 = n->a2 + b * O;
        for (o = 0; o < O; o++)
            d[o] += a2[o];
        return -cnet_sm_ce_row_f64(d, 1, (size_t)O, t) - n->Lb[b];
    }
}

/* expm1(d) for |d| <= 2^-10, series (bound in the header comment). */
CNET_INLINE double ng_expm1_series(double d)
{
    return d * (1.0 + d * (1.0 / 2 + d * (1.0 / 6 + d * (1.0 / 24 + d * (1.0 / 120)))));
}

/* log1p(w) for |w| <= 2^-11, series (bound in the header comment). */
CNET_INLINE double ng_log1p_series(double w)
{
    return w * (1.0 + w * (-1.0 / 2 + w * (1.0 / 3 + w * (-1.0 / 4 + w * (1.0 / 5)))));
}

/* Row b's loss change when only output o moves by d, with libm; scratch (O). */
static double ng_row_dloss_one_exact(const ng_net *n, ptrdiff_t b, ptrdiff_t o, double d,
                                     double *scratch)
{
    memset(scratch, 0, (size_t)n->O * sizeof(double));
    scratch[o] = d;
    return ng_row_dloss_exact(n, b, scratch);
}

/* Row b's loss change when hidden unit j's pre-activation moves by delta,
 * with libm; scratch (O). */
static double ng_row_dloss_hidden_exact(const ng_net *n, ptrdiff_t b, ptrdiff_t j,
                                        double delta, double *scratch)
{
    const ptrdiff_t H = n->H, O = n->O;
    double s = ng_sigmoid_shift(n->a1[b * H + j], n->z1[b * H + j], n->zc[b * H + j], delta);
    const double *w = n->W2 + j * O;
    ptrdiff_t o;
    for (o = 0; o < O; o++)
        scratch[o] = s * w[o];
    return ng_row_dloss_exact(n, b, scratch);
}

/* Truncated power series, degree NG_K, one per hidden unit: U, L (NG_K, H),
 * row k-1 holding the coefficient of degree k. L = log1p(U) (U_0 = 0), from
 * (1 + U) L' = U': k L_k = k U_k - sum_{m=1..k-1} m L_m U_{k-m}. */
CNET_INLINE void ng_tps_log1p(ptrdiff_t H, const double *U, double *CNET_RESTRICT L)
{
    ptrdiff_t j;
    int k, m;
    for (k = 1; k <= NG_K; k++) {
        double *Lk = L + (k - 1) * H;
        const double *Uk = U + (k - 1) * H;
        for (j = 0; j < H; j++)
            Lk[j] = 0.0;
        for (m = 1; m < k; m++) {
            const double *Lm = L + (m - 1) * H, *Ukm = U + (k - m - 1) * H;
            for (j = 0; j < H; j++)
                Lk[j] += m * Lm[j] * Ukm[j];
        }
        for (j = 0; j < H; j++)
            Lk[j] = Uk[j] - Lk[j] / k;
    }
}

/* Forward pass of batch row b of x and the Taylor coefficients of G for each
 * hidden unit (see ng_net); scratch: tmp (4 NG_K H), idx and val (NG_LIST(I, H)
 * entries), wval (NG_LIST(I, H) doubles: the list's values widened). */
CNET_DISPATCH_FMA
static void ng_forward_row(ng_net *n, ptrdiff_t b, double *tmp, int *idx, void *val,
                           double *wval)
{
    const ptrdiff_t B = n->B, H = n->H, O = n->O;
    const double *W1 = n->W1, *W2 = n->W2;
    double *a1 = n->a1 + b * H, *z1 = n->z1 + b * H, *zc = n->zc + b * H;
    double *a2 = n->a2 + b * O, *y = n->y + b * O;
    double *g = n->g + b * NG_K * H;
    double *u = tmp, *q = tmp + NG_K * H, *al = tmp + 2 * NG_K * H, *lq = tmp + 3 * NG_K * H;
    double *la = u; /* u is read into g before la is written */
    const ptrdiff_t t = (ptrdiff_t)n->t[b];
    const ptrdiff_t I = n->I;
    double yt, kap, kapc;
    ptrdiff_t j, o, cnt;

    /* a1 = x W1 + b1 over the row's non-zeros, a2 = z1 W2 + b2 over all of
     * z1: the fully connected layer's forward pass */
    if (n->x_f32)
        affine_forward_chunk_xf_wd(1, (const float *)n->x + b * I, I, W1, H, n->b1, a1, NULL, I,
                                   H, CNET_AFFINE_BIAS, 0, (int32_t *)idx, (float *)val, &cnt,
                                   NULL, 1, wval, NULL, NULL);
    else
        affine_forward_chunk_xd_wd(1, (const double *)n->x + b * I, I, W1, H, n->b1, a1, NULL,
                                   I, H, CNET_AFFINE_BIAS, 0, (int32_t *)idx, (double *)val,
                                   &cnt, NULL, 1, wval, NULL, NULL);
    for (j = 0; j < H; j++)
        ng_sigmoid_pair(a1[j], &z1[j], &zc[j]);
    for (j = 0; j < H; j++)
        n->z1T[j * B + b] = z1[j];
    affine_forward_chunk_xd_wd(1, z1, H, W2, O, n->b2, a2, NULL, H, O, CNET_AFFINE_BIAS, 1,
                               (int32_t *)idx, (double *)val, &cnt, NULL, 1, wval, NULL, NULL);
    /* y = softmax(a2) */
    cnet_sm_softmax_rows_f64(1, (size_t)O, a2, O, 1, y, (size_t)O);
    yt = y[t];
    kap = n->kap[b] = yt / (yt + NG_C);
    kapc = n->kapc[b] = NG_C / (yt + NG_C);
    n->Lb[b] = -cnet_ce_term_f64(yt);
    for (o = 0; o < O; o++) {
        n->yT[o * B + b] = y[o];
        n->ktT[o * B + b] = o == t ? kap : 0.0;
    }

    /* s(delta) = sum_k u_k delta^k, from u' = u - u^2 with u_0 = z:
     * (k+1) u_{k+1} = u_k (1 - 2z) - sum_{m=1..k-1} u_m u_{k-m}. */
    {
        double *u1 = u, *u2 = u + H, *u3 = u + 2 * H, *u4 = u + 3 * H, *u5 = u + 4 * H;
        for (j = 0; j < H; j++) {
            double c = zc[j] - z1[j]; /* 1 - 2z */
            u1[j] = z1[j] * zc[j];
            u2[j] = u1[j] * c / 2;
            u3[j] = (u2[j] * c - u1[j] * u1[j]) / 3;
            u4[j] = (u3[j] * c - 2 * u1[j] * u2[j]) / 4;
            u5[j] = (u4[j] * c - 2 * u1[j] * u3[j] - u2[j] * u2[j]) / 5;
        }
    }

    /* Q(s) = sum_o y_o expm1(s W2[j, o]) = sum_k (sum_o y_o W2[j, o]^k) s^k / k!,
     * A(s) = kappa expm1(s W2[j, t]) + kappac Q(s). */
    for (j = 0; j < NG_K * H; j++)
        q[j] = 0.0;
    for (o = 0; o < O; o++) {
        const double yo = y[o], *w = n->W2T + o * H;
        for (j = 0; j < H; j++) {
            double wj = w[j], pw = yo * wj;
            q[j] += pw;
            pw *= wj;
            q[H + j] += pw;
            pw *= wj;
            q[2 * H + j] += pw;
            pw *= wj;
            q[3 * H + j] += pw;
            pw *= wj;
            q[4 * H + j] += pw;
        }
    }
    {
        /* q_k = M_k / k!, al_k = kappa W2[j, t]^k / k! + kappac q_k */
        const double *wt = n->W2T + t * H;
        const double f2 = 1.0 / 2, f3 = 1.0 / 6, f4 = 1.0 / 24, f5 = 1.0 / 120;
        double *q2 = q + H, *q3 = q + 2 * H, *q4 = q + 3 * H, *q5 = q + 4 * H;
        double *al1 = al, *al2 = al + H, *al3 = al + 2 * H, *al4 = al + 3 * H,
               *al5 = al + 4 * H;
        for (j = 0; j < H; j++) {
            double w = wt[j], w2 = w * w, w3 = w2 * w, w4 = w2 * w2, w5 = w4 * w;
            q2[j] *= f2;
            q3[j] *= f3;
            q4[j] *= f4;
            q5[j] *= f5;
            al1[j] = kap * w + kapc * q[j];
            al2[j] = kap * (w2 * f2) + kapc * q2[j];
            al3[j] = kap * (w3 * f3) + kapc * q3[j];
            al4[j] = kap * (w4 * f4) + kapc * q4[j];
            al5[j] = kap * (w5 * f5) + kapc * q5[j];
        }
    }
    ng_tps_log1p(H, q, lq);

    /* G = P(s(delta)) to degree 5, P_k = lq_k - la_k. */
    {
        const double *u1 = u, *u2 = u + H, *u3 = u + 2 * H, *u4 = u + 3 * H, *u5 = u + 4 * H;
        double *g1 = g, *g2 = g + H, *g3 = g + 2 * H, *g4 = g + 3 * H, *g5 = g + 4 * H;
        /* lq holds log1p(Q); reuse q for P once la = log1p(A) is known. */
        double *P = q;
        for (j = 0; j < H; j++) {
            /* keep u: copy it into g before la overwrites it */
            g1[j] = u1[j];
            g2[j] = u2[j];
            g3[j] = u3[j];
            g4[j] = u4[j];
            g5[j] = u5[j];
        }
        ng_tps_log1p(H, al, la);
        for (j = 0; j < NG_K * H; j++)
            P[j] = lq[j] - la[j];
        for (j = 0; j < H; j++) {
            double U1 = g1[j], U2 = g2[j], U3 = g3[j], U4 = g4[j], U5 = g5[j];
            double P1 = P[j], P2 = P[H + j], P3 = P[2 * H + j], P4 = P[3 * H + j],
                   P5 = P[4 * H + j];
            double U11 = U1 * U1;
            g1[j] = P1 * U1;
            g2[j] = P1 * U2 + P2 * U11;
            g3[j] = P1 * U3 + 2 * P2 * U1 * U2 + P3 * U11 * U1;
            g4[j] = P1 * U4 + P2 * (U2 * U2 + 2 * U1 * U3) + 3 * P3 * U11 * U2
                    + P4 * U11 * U11;
            g5[j] = P1 * U5 + 2 * P2 * (U1 * U4 + U2 * U3)
                    + 3 * P3 * (U11 * U3 + U1 * U2 * U2) + 4 * P4 * U11 * U1 * U2
                    + P5 * U11 * U11 * U1;
        }
    }
}

/* CSC of x (colptr, crow, cval; column I holds every row with value 1, for
 * b1), rows ascending in each column, by the fully connected layer's column
 * lists; pos (I), idx and val (NG_LIST(I, H)) scratch, cvalf (nnz) the float32
 * values before their widening when x is float32. Returns -1, writing no
 * list, when x does not hold nnz non-zeros. */
static int ng_fill_columns(ng_net *n, ptrdiff_t nnz, int *pos, int *idx, void *val,
                           float *cvalf)
{
    const ptrdiff_t B = n->B, I = n->I;
    ptrdiff_t b, e;
    if (n->x_f32)
        affine_column_counts_xf_wd((const float *)n->x, I, B, I, 1, n->colptr);
    else
        affine_column_counts_xd_wd((const double *)n->x, I, B, I, 1, n->colptr);
    if (n->colptr[I] != nnz)
        return -1; /* x is not the batch the scratch was sized for */
    if (n->x_f32) {
        affine_column_lists_xf_wd((const float *)n->x, I, B, I, 1, n->colptr, n->crow, cvalf,
                                  pos, idx, (float *)val);
        for (e = 0; e < nnz; e++)
            n->cval[e] = (double)cvalf[e];
    } else {
        affine_column_lists_xd_wd((const double *)n->x, I, B, I, 1, n->colptr, n->crow,
                                  n->cval, pos, idx, (double *)val);
    }
    for (b = 0; b < B; b++) {
        n->crow[nnz + b] = (int)b;
        n->cval[nnz + b] = 1.0;
    }
    n->colptr[I + 1] = (int)(nnz + B);
    return 0;
}

/* G5(xb dp) - G5(xb dm) for the units j0..j0+nj-1 of row b, added to acc. */
CNET_INLINE void ng_series_units(const ng_net *n, ptrdiff_t b, double xb, ptrdiff_t j0,
                                 ptrdiff_t nj, const double *dp, const double *dm,
                                 double *CNET_RESTRICT acc)
{
    const ptrdiff_t H = n->H;
    const double *g1 = n->g + b * NG_K * H + j0, *g2 = g1 + H, *g3 = g2 + H, *g4 = g3 + H,
                 *g5 = g4 + H;
    ptrdiff_t l;
    for (l = 0; l < nj; l++) {
        double d = xb * dp[l], e = xb * dm[l];
        double lp = d * (g1[l] + d * (g2[l] + d * (g3[l] + d * (g4[l] + d * g5[l]))));
        double lm = e * (g1[l] + e * (g2[l] + e * (g3[l] + e * (g4[l] + e * g5[l]))));
        acc[l] += lp - lm;
    }
}

/* Sum over column col's rows of L_b+ - L_b- for every hidden unit j.
 * dp, dm (H) the perturbations of the column's parameters; OUT acc (H);
 * scratch (O). */
CNET_DISPATCH_FMA
static void ng_column(const ng_net *n, ptrdiff_t col, const double *dp, const double *dm,
                      double *CNET_RESTRICT acc, double *scratch)
{
    const ptrdiff_t H = n->H;
    const ptrdiff_t p0 = n->colptr[col], p1 = n->colptr[col + 1];
    double rmax = 0.0, lim;
    int series = 1;
    ptrdiff_t p, j, j0, l;

    for (j = 0; j < H; j++) {
        double hm = fabs(dp[j] - dm[j]) / 2, hd = fabs(dp[j] + dm[j]) / 2;
        rmax = hm + hd > rmax ? hm + hd : rmax;
        series &= hd <= NG_D_OVER_M * hm; /* false for a NaN */
        acc[j] = 0.0;
    }
    lim = NG_R_MAX;
    if (!(n->wmax * lim <= NG_WR_MAX))
        lim = NG_WR_MAX / n->wmax; /* 0 or NaN when W2 holds inf or NaN */
    if (!series)
        lim = -1.0;

    /* Rows beyond the series' range (none for MNIST): libm. */
    for (p = p0; p < p1; p++) {
        const ptrdiff_t b = n->crow[p];
        const double xb = n->cval[p];
        if (fabs(xb) * rmax <= lim)
            continue;
        for (j = 0; j < H; j++) {
            double lp = ng_row_dloss_hidden_exact(n, b, j, xb * dp[j], scratch);
            double lm = ng_row_dloss_hidden_exact(n, b, j, xb * dm[j], scratch);
            acc[j] += lp - lm;
        }
    }

    /* The series, NG_JB units at a time so their sums and perturbations stay
     * in registers while the rows stream by: per row and unit only the five
     * coefficients are loaded. */
    for (j0 = 0; j0 + NG_JB <= H; j0 += NG_JB) {
        double a[NG_JB], up[NG_JB], dn[NG_JB];
        for (l = 0; l < NG_JB; l++) {
            a[l] = 0.0;
            up[l] = dp[j0 + l];
            dn[l] = dm[j0 + l];
        }
        for (p = p0; p < p1; p++) {
            const double xb = n->cval[p];
            if (fabs(xb) * rmax <= lim)
                ng_series_units(n, n->crow[p], xb, j0, NG_JB, up, dn, a);
        }
        for (l = 0; l < NG_JB; l++)
            acc[j0 + l] += a[l];
    }
    if (j0 < H) {
        double a[NG_JB];
        for (l = 0; l < H - j0; l++)
            a[l] = 0.0;
        for (p = p0; p < p1; p++) {
            const double xb = n->cval[p];
            if (fabs(xb) * rmax <= lim)
                ng_series_units(n, n->crow[p], xb, j0, H - j0, dp + j0, dm + j0, a);
        }
        for (l = 0; l < H - j0; l++)
            acc[j0 + l] += a[l];
    }
}

/* Gradient of W2[j, :] (or b2 when j == H): OUT g (O); scratch (O). */
CNET_DISPATCH_FMA
static void ng_output_row(const ng_net *n, ptrdiff_t j, int f32, double *g, double *scratch)
{
    const ptrdiff_t B = n->B, H = n->H, O = n->O;
    const double *v = j < H ? n->W2 + j * O : n->b2;
    const double *z = n->z1T + j * B; /* row H is all ones */
    const double *kapc = n->kapc;
    ptrdiff_t o, b;
    for (o = 0; o < O; o++) {
        const double *yo = n->yT + o * B, *ko = n->ktT + o * B;
        double dp, dm, acc = 0.0;
        ng_perturb(v[o], f32, &dp, &dm);
        /* |z| <= 1, so |d| <= max(|dp|, |dm|) */
        if (fabs(dp) <= NG_D_MAX && fabs(dm) <= NG_D_MAX) {
            /* NG_LANES partial sums, row b into lane b % NG_LANES, added in a
             * fixed order: vectorisable and the same for any thread count. */
            double lane[NG_LANES];
            ptrdiff_t l;
            for (l = 0; l < NG_LANES; l++)
                lane[l] = 0.0;
            for (b = 0; b < B; b += NG_LANES) {
                const ptrdiff_t nl = B - b < NG_LANES ? B - b : NG_LANES;
                for (l = 0; l < nl; l++) {
                    const ptrdiff_t r = b + l;
                    double Ep = ng_expm1_series(z[r] * dp), Em = ng_expm1_series(z[r] * dm);
                    double Qp = yo[r] * Ep, Qm = yo[r] * Em;
                    double Ap = ko[r] * Ep + kapc[r] * Qp, Am = ko[r] * Em + kapc[r] * Qm;
                    double lp = ng_log1p_series(Qp) - ng_log1p_series(Ap);
                    double lm = ng_log1p_series(Qm) - ng_log1p_series(Am);
                    lane[l] += lp - lm;
                }
            }
            for (l = 0; l < NG_LANES; l++)
                acc += lane[l];
        } else {
            for (b = 0; b < B; b++) {
                double lp = ng_row_dloss_one_exact(n, b, o, z[b] * dp, scratch);
                double lm = ng_row_dloss_one_exact(n, b, o, z[b] * dm, scratch);
                acc += lp - lm;
            }
        }
        g[o] = acc / (double)B / (2.0 * NG_H);
    }
}

/* Entries of the per-thread lists of a row's inputs (affine.h: the inputs
 * of x's rows, I + 8, and of z1's, H + 8). */
#define NG_LIST(I, H) ((size_t)((I) > (H) ? (I) : (H)) + 8)

/* Per-thread doubles of the phases below: the forward pass's tmp
 * (4 NG_K H); a column's dp, dm, acc (3 H) and the exact path's scratch (O);
 * the forward pass's widened list values (NG_LIST(I, H)). */
#define NG_BUF(I, H, O) ((size_t)4 * NG_K * (size_t)(H) + (size_t)(H) * 3 + (size_t)(O) + \
                         NG_LIST(I, H))

/* Scratch arrays start on their own cache lines. */
#define NG_ALIGN 64

/* An array of the given bytes at base + *off, and *off moved past it, rounded
 * up to whole cache lines; with base NULL only *off moves, so that the sizes
 * are counted by the code that carves. */
static void *ng_carve(char *base, size_t *off, size_t bytes)
{
    void *p = base ? base + *off : NULL;
    *off += (bytes + NG_ALIGN - 1) & ~(size_t)(NG_ALIGN - 1);
    return p;
}

/* Bytes of one thread's scratch: NG_BUF doubles, then idx (int) and val
 * (double) of NG_LIST entries each. */
static size_t ng_thread_bytes(ptrdiff_t I, ptrdiff_t H, ptrdiff_t O)
{
    size_t off = 0;
    ng_carve(NULL, &off, NG_BUF(I, H, O) * sizeof(double));
    ng_carve(NULL, &off, NG_LIST(I, H) * sizeof(int));
    ng_carve(NULL, &off, NG_LIST(I, H) * sizeof(double));
    return off;
}

/* Thread k's scratch: *buf, *idx, *val as ng_thread_bytes lays them out. */
static void ng_thread_scratch(const ng_net *n, int k, double **buf, int **idx, void **val)
{
    size_t off = 0;
    char *base = n->per_thread + (size_t)k * ng_thread_bytes(n->I, n->H, n->O);
    *buf = (double *)ng_carve(base, &off, NG_BUF(n->I, n->H, n->O) * sizeof(double));
    *idx = (int *)ng_carve(base, &off, NG_LIST(n->I, n->H) * sizeof(int));
    *val = ng_carve(base, &off, NG_LIST(n->I, n->H) * sizeof(double));
}

/* The handle's layout in base (NULL: counted only); returns the bytes, the
 * first NG_ALIGN-aligned address of the block included. pos and cvalf OUT:
 * ng_fill_columns's scratch. */
static size_t ng_layout(char *base, ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                        ptrdiff_t nnz, int x_f32, int nthreads, ng_net **net, int **pos,
                        float **cvalf)
{
    size_t off = 0;
    ng_net *n = (ng_net *)ng_carve(base, &off, sizeof(ng_net));
    int *colptr = (int *)ng_carve(base, &off, ((size_t)I + 2) * sizeof(int));
    int *crow = (int *)ng_carve(base, &off, ((size_t)nnz + B) * sizeof(int));
    double *cval = (double *)ng_carve(base, &off, ((size_t)nnz + B) * sizeof(double));
    double *a1 = (double *)ng_carve(base, &off, (size_t)B * (size_t)H * 3 * sizeof(double));
    double *g = (double *)ng_carve(base, &off, (size_t)B * NG_K * (size_t)H * sizeof(double));
    double *a2 = (double *)ng_carve(base, &off, (size_t)B * (size_t)O * 4 * sizeof(double));
    double *kap = (double *)ng_carve(base, &off, (size_t)B * 3 * sizeof(double));
    double *z1T = (double *)ng_carve(base, &off, ((size_t)H + 1) * (size_t)B * sizeof(double));
    double *W2T = (double *)ng_carve(base, &off, (size_t)O * (size_t)H * sizeof(double));
    int *p = (int *)ng_carve(base, &off, (size_t)I * sizeof(int) + 1);
    float *cf = (float *)ng_carve(base, &off, x_f32 ? (size_t)nnz * sizeof(float) + 1 : 0);
    char *threads = (char *)ng_carve(base, &off, (size_t)nthreads * ng_thread_bytes(I, H, O));
    if (base) {
        n->colptr = colptr;
        n->crow = crow;
        n->cval = cval;
        n->a1 = a1;
        n->g = g;
        n->a2 = a2;
        n->kap = kap;
        n->z1T = z1T;
        n->W2T = W2T;
        n->per_thread = threads;
        n->nthreads = nthreads;
        *net = n;
        *pos = p;
        *cvalf = cf;
    }
    return off + NG_ALIGN;
}

size_t cnet_numgrad_scratch(ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O, ptrdiff_t nnz,
                            int x_f32, int nthreads)
{
    return ng_layout(NULL, B, I, H, O, nnz, x_f32, nthreads < 1 ? 1 : nthreads, NULL, NULL,
                     NULL);
}

cnet_numgrad *cnet_numgrad_new(const void *x, int x_f32, const intptr_t *t,
                               ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                               ptrdiff_t nnz, const double *W1, const double *b1,
                               const double *W2, const double *b2, int params_f32,
                               int nthreads, void *scratch)
{
    char *base = (char *)(((uintptr_t)scratch + (NG_ALIGN - 1)) & ~(uintptr_t)(NG_ALIGN - 1));
    ng_net *n = NULL;
    ptrdiff_t b, j, o;
    double wmax = 0.0, *buf;
    int *pos = NULL, *idx;
    float *cvalf = NULL;
    void *val;

    ng_layout(base, B, I, H, O, nnz, x_f32, nthreads < 1 ? 1 : nthreads, &n, &pos, &cvalf);
    n->B = B;
    n->I = I;
    n->H = H;
    n->O = O;
    n->x = x;
    n->x_f32 = x_f32;
    n->params_f32 = params_f32;
    n->t = t;
    n->W1 = W1;
    n->b1 = b1;
    n->W2 = W2;
    n->b2 = b2;
    n->z1 = n->a1 + B * H;
    n->zc = n->z1 + B * H;
    n->y = n->a2 + B * O;
    n->yT = n->y + B * O;
    n->ktT = n->yT + B * O;
    n->kapc = n->kap + B;
    n->Lb = n->kapc + B;
    for (b = 0; b < B; b++)
        n->z1T[H * B + b] = 1.0;

    for (j = 0; j < H; j++)
        for (o = 0; o < O; o++) {
            double w = W2[j * O + o], a = fabs(w);
            n->W2T[o * H + j] = w;
            wmax = (a > wmax || a != a) ? a : wmax;
        }
    n->wmax = wmax;

    ng_thread_scratch(n, 0, &buf, &idx, &val);
    return ng_fill_columns(n, nnz, pos, idx, val, cvalf) ? NULL : n;
}

/* The forward pass of rows [b0, b1), shared by the threads of the
 * enclosing parallel region (run alone, by one thread); every thread meets
 * the loop and its closing barrier. */
static void ng_rows_share(ng_net *n, ptrdiff_t b0, ptrdiff_t b1, double *buf, int *idx,
                          void *val)
{
    const ptrdiff_t H = n->H, O = n->O;
    ptrdiff_t bb;
#pragma omp for schedule(dynamic, 4)
    for (bb = b0; bb < b1; bb++)
        ng_forward_row(n, bb, buf, idx, val, buf + 4 * NG_K * H + 3 * H + O);
}

/* 1 when a row's loss is NaN: then so is the book's batch loss with any
 * parameter moved (the rows a parameter does not reach keep their NaN, the
 * others see NaN + h), and every entry of its gradient. */
static int ng_loss_is_nan(const ng_net *n)
{
    ptrdiff_t b;
    for (b = 0; b < n->B; b++)
        if (n->Lb[b] != n->Lb[b])
            return 1;
    return 0;
}

/* gW1 rows [c0, c1) (c == I: gb1), shared as ng_rows_share, no barrier; NaN
 * rows when nan is set. */
static void ng_columns_share(ng_net *n, ptrdiff_t c0, ptrdiff_t c1, double *buf,
                             double *gW1, double *gb1, int nan)
{
    const ptrdiff_t H = n->H, I = n->I, B = n->B;
    ptrdiff_t col, jj;
#pragma omp for schedule(dynamic, 1) nowait
    for (col = c0; col < c1; col++) {
        const double *v = col < I ? n->W1 + col * H : n->b1;
        double *gr = col < I ? gW1 + col * H : gb1;
        double *dp = buf, *dm = buf + H, *acc = buf + 2 * H, *scratch = buf + 3 * H;
        if (nan) {
            for (jj = 0; jj < H; jj++)
                gr[jj] = NAN;
            continue;
        }
        for (jj = 0; jj < H; jj++)
            ng_perturb(v[jj], n->params_f32, &dp[jj], &dm[jj]);
        ng_column(n, col, dp, dm, acc, scratch);
        for (jj = 0; jj < H; jj++)
            gr[jj] = acc[jj] / (double)B / (2.0 * NG_H);
    }
}

/* gW2 rows [j0, j1) (j == H: gb2), shared as ng_rows_share, no barrier. */
static void ng_outputs_share(ng_net *n, ptrdiff_t j0, ptrdiff_t j1, double *buf,
                             double *gW2, double *gb2, int nan)
{
    const ptrdiff_t H = n->H, O = n->O;
    ptrdiff_t jj, o;
#pragma omp for schedule(dynamic, 1) nowait
    for (jj = j0; jj < j1; jj++) {
        double *g = jj < H ? gW2 + jj * O : gb2;
        if (nan)
            for (o = 0; o < O; o++)
                g[o] = NAN;
        else
            ng_output_row(n, jj, n->params_f32, g, buf + 3 * H);
    }
}

void cnet_numgrad_run(cnet_numgrad *n, ptrdiff_t b0, ptrdiff_t b1, ptrdiff_t c0, ptrdiff_t c1,
                      ptrdiff_t j0, ptrdiff_t j1, double *gW1, double *gb1, double *gW2,
                      double *gb2)
{
    const ptrdiff_t H = n->H, O = n->O, I = n->I, B = n->B;
    /* multiply-adds, with MNIST's density as the guess of the non-zeros */
    const size_t work = (size_t)(b1 - b0) * ((size_t)I / 5 + 1) * (size_t)H +
                        (size_t)(c1 - c0) * ((size_t)B / 5 + 1) * (size_t)H +
                        (size_t)(j1 - j0) * (size_t)O * (size_t)B;
    int nt = cnet_threads_for(work, 16384);
    if (nt > n->nthreads)
        nt = n->nthreads;
#pragma omp parallel num_threads(nt)
    {
        double *buf;
        int *idx;
        void *val;
        ng_thread_scratch(n, cnet_thread_num(), &buf, &idx, &val);
        ng_rows_share(n, b0, b1, buf, idx, val);
        /* every row's forward pass is done here (the contract, and the
         * barrier of ng_rows_share's loop) */
        const int nan = (c1 > c0 || j1 > j0) && ng_loss_is_nan(n);
        ng_columns_share(n, c0, c1, buf, gW1, gb1, nan);
        ng_outputs_share(n, j0, j1, buf, gW2, gb2, nan);
    }
}

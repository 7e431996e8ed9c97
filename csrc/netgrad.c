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
 * Series instead of transcendentals. For W1[i, j] and b1[j] the change of the
 * hidden pre-activation is delta = x[b, i] * (fl(v +- h) - v), at most about
 * 1e-4 for MNIST inputs. Then
 *   s(delta) = sigmoid(a1 + delta) - sigmoid(a1) = sum_{k=1..5} u_k delta^k,
 * and, since d_o = s W2[j, o], the row's loss change is a function of s alone,
 *   P(s) = log1p(Q(s)) - log1p(A(s)) = sum_{k=1..5} P_k s^k.
 * Both coefficient sets are computed once per (row, hidden unit) from the
 * cached activations (Taylor arithmetic below); each parameter then costs two
 * degree-5 polynomials per reached row and sign: no exp or log.
 *
 * Truncation bounds (eps = 2^-53; "negligible" means below 2^-55 relative to
 * the natural size of the term, i.e. under the rounding of a direct libm
 * evaluation of the same quantity):
 * - Sigmoid. sigma'(a + w) / sigma'(a) = (cosh(w/2) + tanh(a/2) sinh(w/2))^-2.
 *   For complex |w| <= 1: |cosh(w/2)| >= cos(1/2), |sinh(w/2)| <= sinh(1/2),
 *   |tanh(a/2)| < 1 for real a, so the ratio is at most
 *   (cos(1/2) - sinh(1/2))^-2 = 7.87 there, whatever a is. By Cauchy's
 *   estimate its Taylor coefficients are at most 7.87, and
 *   s(delta) = sigma'(a) sum_n d_n delta^(n+1) / (n+1) with |d_n| <= 7.87, d_0 = 1.
 *   Dropping the terms of degree >= 6 leaves an error of at most
 *   sigma'(a) |delta| * 7.87 |delta|^5 / (6 (1 - |delta|)),
 *   which for |delta| <= 2^-12 is below 1.2e-18 sigma'(a) |delta|: negligible.
 * - Loss. Let W = max_o |W2[j, o]|. For complex |s| <= R = 1 / (2 W),
 *   |d_o| <= 1/2, so |E_o| <= e^(1/2) - 1 = 0.649; Q and A are averages of
 *   E's with weights summing to 1, so |Q|, |A| <= 0.649 and
 *   |log1p(Q)|, |log1p(A)| <= -log(1 - 0.649) = 1.046: |P| <= 2.092 on the
 *   circle, |P_k| <= 2.092 (2W)^k. Dropping degree >= 6 leaves at most
 *   2.092 (2 W |s|)^6 / (1 - 2 W |s|); relative to W |s| (the size of the
 *   terms y_o E_o a direct evaluation rounds) that is at most
 *   134 (W |s|)^5 / (1 - 2 W |s|), below 3.7e-18 for W |s| <= 2^-13.
 *   Since |s| <= |delta| / 4 (sigma' <= 1/4), W |delta| <= 2^-11 suffices.
 * - For W2 and b2 the change d of one output is used directly:
 *   expm1(d) = sum_{k=1..5} d^k / k! with relative tail
 *   <= |d|^5 / 720 / (1 - |d|), and log1p(w) = sum_{k=1..5} (-1)^(k+1) w^k / k
 *   with relative tail <= |w|^5 / 6 / (1 - |w|); with |d| <= 2^-12 (so
 *   |Q|, |A| <= |E| < 2^-11) both are below 1e-18.
 * Outside these ranges (large inputs, large weights) the exact formulas are
 * evaluated with libm (expm1/log1p), and for changes of an output above 1/2
 * the row's softmax and loss are recomputed as the book does.
 *
 * Loss precision: always float64, also for float32 parameters (their float32
 * values, perturbed as float32 arrays store them, are exact in double).
 *
 * Threads: the parameters are split across threads, each gradient entry is
 * computed by one thread summing its rows in increasing order, so the result
 * is bit-identical for any thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cnet_common.h"
#include "config.h"
#include "netgrad.h"

#define NG_H 1e-4     /* the book's h */
#define NG_C 1e-7     /* the book's 1e-7 inside the log */
#define NG_K 5        /* degree of every series */
#define NG_DELTA_MAX 0.000244140625      /* 2^-12: sigmoid series range of |delta| */
#define NG_WDELTA_MAX 0.00048828125      /* 2^-11: loss series range of W |delta| */
#define NG_D_MAX 0.000244140625          /* 2^-12: single-output series range */
#define NG_EXPM1_MAX 0.5                 /* above: recompute the row's softmax */

/* Everything about the unperturbed network the perturbed losses are built from. */
typedef struct {
    ptrdiff_t B, I, H, O;
    const intptr_t *t;
    const double *W1, *b1, *W2, *b2;
    ptrdiff_t *colptr; /* (I + 2): column i of x holds entries colptr[i]..colptr[i+1]-1;
                          column I is b1's column of ones */
    ptrdiff_t *rows;   /* (nnz + B) batch row of each entry */
    double *xv;        /* (nnz + B) x[b, i] of each entry */
    double *a1, *z1, *zc; /* (B, H) x W1 + b1, sigmoid(a1), 1 - sigmoid(a1) = sigmoid(-a1) */
    double *sc;        /* (B, K, H) sigmoid series u_1..u_5 of each hidden unit */
    double *pc;        /* (B, K, H) loss series P_1..P_5 of each hidden unit */
    double *a2, *y;    /* (B, O) output scores and softmax */
    double *kap, *kapc, *Lb; /* (B) kappa, kappac, the row's loss -log(y_t + c) */
    double wmax;       /* max |W2| */
} ng_net;

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

CNET_INLINE double ng_sigmoid(double a)
{
    return 1.0 / (1.0 + exp(-a));
}

/* sigmoid(a + d) - sigmoid(a) to full relative precision, z = sigmoid(a),
 * zc = sigmoid(-a): sigmoid(u) - sigmoid(v) = sigmoid(u) (1 - sigmoid(v)) (1 - e^(v-u)). */
static double ng_sigmoid_shift(double a, double z, double zc, double d)
{
    if (d >= 0)
        return ng_sigmoid(a + d) * zc * -expm1(-d);
    return z * ng_sigmoid(-(a + d)) * expm1(d);
}

/* Row b's loss change for a change d (O) of its output scores, with libm. */
static double ng_row_dloss_exact(const ng_net *n, ptrdiff_t b, const double *d)
{
    const ptrdiff_t O = n->O;
    const double *y = n->y + b * O;
    const ptrdiff_t t = (ptrdiff_t)n->t[b];
    double dmax = 0.0;
    ptrdiff_t o;
    for (o = 0; o < O; o++) {
        double ad = fabs(d[o]);
        dmax = ad > dmax ? ad : dmax;
    }
    if (dmax <= NG_EXPM1_MAX) {
        double Q = 0.0, A;
        for (o = 0; o < O; o++)
            Q += y[o] * expm1(d[o]);
        A = n->kap[b] * expm1(d[t]) + n->kapc[b] * Q;
        return log1p(Q) - log1p(A);
    } else {
        /* A large change (or a NaN): the book's softmax and log, recomputed. */
        const double *a2 = n->a2 + b * O;
        double m = -INFINITY, S = 0.0, yt;
        for (o = 0; o < O; o++) {
            double v = a2[o] + d[o];
            m = v > m ? v : m;
        }
        for (o = 0; o < O; o++)
            S += exp(a2[o] + d[o] - m);
        yt = exp(a2[t] + d[t] - m) / S;
        return -log(yt + NG_C) - n->Lb[b];
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

/* Row b's loss change when only output o moves by d; scratch (O). */
static double ng_row_dloss_one(const ng_net *n, ptrdiff_t b, ptrdiff_t o, double d,
                               double *scratch)
{
    if (fabs(d) <= NG_D_MAX) {
        double E = ng_expm1_series(d);
        double Q = n->y[b * n->O + o] * E;
        double A = (o == (ptrdiff_t)n->t[b] ? n->kap[b] * E : 0.0) + n->kapc[b] * Q;
        return ng_log1p_series(Q) - ng_log1p_series(A);
    } else {
        double r;
        memset(scratch, 0, (size_t)n->O * sizeof(double));
        scratch[o] = d;
        r = ng_row_dloss_exact(n, b, scratch);
        return r;
    }
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

/* Truncated power series (degree NG_K, zero constant term): L = log1p(U).
 * From (1 + U) L' = U': k L_k = k U_k - sum_{m=1..k-1} m L_m U_{k-m}. */
static void ng_tps_log1p(const double *U, double *L)
{
    int k, m;
    for (k = 1; k <= NG_K; k++) {
        double acc = 0.0;
        for (m = 1; m < k; m++)
            acc += m * L[m] * U[k - m];
        L[k] = U[k] - acc / k;
    }
}

/* Forward pass and series coefficients of batch row b (see ng_net). */
static void ng_forward_row(ng_net *n, ptrdiff_t b, const void *x, int x_f32)
{
    const ptrdiff_t I = n->I, H = n->H, O = n->O;
    const double *W1 = n->W1, *W2 = n->W2;
    double *a1 = n->a1 + b * H, *z1 = n->z1 + b * H, *zc = n->zc + b * H;
    double *a2 = n->a2 + b * O, *y = n->y + b * O;
    double *sc = n->sc + b * NG_K * H, *pc = n->pc + b * NG_K * H;
    const ptrdiff_t t = (ptrdiff_t)n->t[b];
    ptrdiff_t i, j, o;
    double m, S, yt;

    /* a1 = x W1 + b1, skipping the zeros of x */
    for (j = 0; j < H; j++)
        a1[j] = 0.0;
    for (i = 0; i < I; i++) {
        double xi = x_f32 ? (double)((const float *)x)[b * I + i]
                          : ((const double *)x)[b * I + i];
        const double *w = W1 + i * H;
        if (xi == 0.0)
            continue;
        for (j = 0; j < H; j++)
            a1[j] += xi * w[j];
    }
    for (j = 0; j < H; j++) {
        a1[j] += n->b1[j];
        z1[j] = ng_sigmoid(a1[j]);
        zc[j] = ng_sigmoid(-a1[j]);
    }

    /* a2 = z1 W2 + b2, y = softmax(a2) */
    for (o = 0; o < O; o++)
        a2[o] = 0.0;
    for (j = 0; j < H; j++)
        for (o = 0; o < O; o++)
            a2[o] += z1[j] * W2[j * O + o];
    m = -INFINITY;
    for (o = 0; o < O; o++) {
        a2[o] += n->b2[o];
        m = a2[o] > m ? a2[o] : m;
    }
    S = 0.0;
    for (o = 0; o < O; o++) {
        y[o] = exp(a2[o] - m);
        S += y[o];
    }
    for (o = 0; o < O; o++)
        y[o] /= S;
    yt = y[t];
    n->kap[b] = yt / (yt + NG_C);
    n->kapc[b] = NG_C / (yt + NG_C);
    n->Lb[b] = -log(yt + NG_C);

    for (j = 0; j < H; j++) {
        /* sigmoid(a1 + delta) = sum_k u_k delta^k from u' = u - u^2:
         * (k+1) u_{k+1} = u_k (1 - 2 z) - sum_{m=1..k-1} u_m u_{k-m}, u_1 = z (1 - z). */
        double u[NG_K + 1], M[NG_K + 1], q[NG_K + 1], al[NG_K + 1], lq[NG_K + 1],
            la[NG_K + 1];
        double one_m_2z = zc[j] - z1[j], wt = W2[j * O + t], p, f;
        int k, mm;
        u[0] = z1[j];
        u[1] = z1[j] * zc[j];
        for (k = 1; k < NG_K; k++) {
            double acc = u[k] * one_m_2z;
            for (mm = 1; mm < k; mm++)
                acc -= u[mm] * u[k - mm];
            u[k + 1] = acc / (k + 1);
        }
        /* Q(s) = sum_o y_o expm1(s W2[j, o]) = sum_k (sum_o y_o W2[j, o]^k) s^k / k!,
         * A(s) = kappa expm1(s W2[j, t]) + kappac Q(s). */
        for (k = 1; k <= NG_K; k++)
            M[k] = 0.0;
        for (o = 0; o < O; o++) {
            double w = W2[j * O + o];
            p = y[o];
            for (k = 1; k <= NG_K; k++) {
                p *= w;
                M[k] += p;
            }
        }
        p = 1.0;
        f = 1.0;
        for (k = 1; k <= NG_K; k++) {
            p *= wt;
            f *= k;
            q[k] = M[k] / f;
            al[k] = n->kap[b] * (p / f) + n->kapc[b] * q[k];
        }
        ng_tps_log1p(q, lq);
        ng_tps_log1p(al, la);
        for (k = 1; k <= NG_K; k++) {
            sc[(k - 1) * H + j] = u[k];
            pc[(k - 1) * H + j] = lq[k] - la[k];
        }
    }
}

/* Sum over column col's rows of L_b+ - L_b- for every hidden unit j.
 * dp, dm (H) the perturbations of the column's parameters; OUT acc (H);
 * scratch (O). */
CNET_DISPATCH
static void ng_column(const ng_net *n, ptrdiff_t col, const double *dp, const double *dm,
                      double *CNET_RESTRICT acc, double *scratch)
{
    const ptrdiff_t H = n->H;
    double dpmax = 0.0, dlim;
    ptrdiff_t p, j;

    for (j = 0; j < H; j++) {
        double a = fabs(dp[j]) > fabs(dm[j]) ? fabs(dp[j]) : fabs(dm[j]);
        dpmax = a > dpmax ? a : dpmax;
        acc[j] = 0.0;
    }
    dlim = NG_DELTA_MAX;
    if (!(n->wmax * dlim <= NG_WDELTA_MAX))
        dlim = NG_WDELTA_MAX / n->wmax;

    for (p = n->colptr[col]; p < n->colptr[col + 1]; p++) {
        const ptrdiff_t b = n->rows[p];
        const double xb = n->xv[p];
        if (fabs(xb) * dpmax <= dlim) {
            const double *c1 = n->sc + b * NG_K * H, *c2 = c1 + H, *c3 = c2 + H,
                         *c4 = c3 + H, *c5 = c4 + H;
            const double *p1 = n->pc + b * NG_K * H, *p2 = p1 + H, *p3 = p2 + H,
                         *p4 = p3 + H, *p5 = p4 + H;
            for (j = 0; j < H; j++) {
                double d = xb * dp[j];
                double s = d * (c1[j] + d * (c2[j] + d * (c3[j] + d * (c4[j] + d * c5[j]))));
                double lp = s * (p1[j] + s * (p2[j] + s * (p3[j] + s * (p4[j] + s * p5[j]))));
                double e = xb * dm[j];
                double r = e * (c1[j] + e * (c2[j] + e * (c3[j] + e * (c4[j] + e * c5[j]))));
                double lm = r * (p1[j] + r * (p2[j] + r * (p3[j] + r * (p4[j] + r * p5[j]))));
                acc[j] += lp - lm;
            }
        } else {
            for (j = 0; j < H; j++) {
                double lp = ng_row_dloss_hidden_exact(n, b, j, xb * dp[j], scratch);
                double lm = ng_row_dloss_hidden_exact(n, b, j, xb * dm[j], scratch);
                acc[j] += lp - lm;
            }
        }
    }
}

/* Gradient of W2[j, :] (or b2 when j == H): OUT g (O); scratch (O). */
static void ng_output_row(const ng_net *n, ptrdiff_t j, int f32, double *g, double *scratch)
{
    const ptrdiff_t B = n->B, H = n->H, O = n->O;
    const double *v = j < H ? n->W2 + j * O : n->b2;
    ptrdiff_t o, b;
    for (o = 0; o < O; o++) {
        double dp, dm, acc = 0.0;
        ng_perturb(v[o], f32, &dp, &dm);
        for (b = 0; b < B; b++) {
            double zj = j < H ? n->z1[b * H + j] : 1.0;
            double lp = ng_row_dloss_one(n, b, o, zj * dp, scratch);
            double lm = ng_row_dloss_one(n, b, o, zj * dm, scratch);
            acc += lp - lm;
        }
        g[o] = acc / (double)B / (2.0 * NG_H);
    }
}

int cnet_numgrad_two_layer(const void *x, int x_f32, const intptr_t *t,
                           ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, ptrdiff_t O,
                           const double *W1, const double *b1,
                           const double *W2, const double *b2, int params_f32,
                           double *gW1, double *gb1, double *gW2, double *gb2)
{
    ng_net n;
    ptrdiff_t nnz = 0, b, i, k, e;
    size_t work;
    int nt, failed = 0;
    double wmax = 0.0;

    memset(&n, 0, sizeof(n));
    n.B = B;
    n.I = I;
    n.H = H;
    n.O = O;
    n.t = t;
    n.W1 = W1;
    n.b1 = b1;
    n.W2 = W2;
    n.b2 = b2;

    /* Column lists of x's non-zeros (CSC), column I = b1's ones. */
    n.colptr = (ptrdiff_t *)calloc((size_t)I + 2, sizeof(ptrdiff_t));
    if (!n.colptr)
        return -1;
    for (b = 0; b < B; b++) {
        if (x_f32) {
            const float *xr = (const float *)x + b * I;
            for (i = 0; i < I; i++)
                n.colptr[i + 1] += xr[i] != 0.0f;
        } else {
            const double *xr = (const double *)x + b * I;
            for (i = 0; i < I; i++)
                n.colptr[i + 1] += xr[i] != 0.0;
        }
    }
    n.colptr[I + 1] = B;
    for (i = 0; i <= I; i++)
        n.colptr[i + 1] += n.colptr[i];
    nnz = n.colptr[I];

    n.rows = (ptrdiff_t *)malloc(((size_t)nnz + (size_t)B) * sizeof(ptrdiff_t));
    n.xv = (double *)malloc(((size_t)nnz + (size_t)B) * sizeof(double));
    n.a1 = (double *)malloc((size_t)B * (size_t)H * 3 * sizeof(double));
    n.sc = (double *)malloc((size_t)B * NG_K * (size_t)H * 2 * sizeof(double));
    n.a2 = (double *)malloc((size_t)B * (size_t)O * 2 * sizeof(double));
    n.kap = (double *)malloc((size_t)B * 3 * sizeof(double));
    if (!n.rows || !n.xv || !n.a1 || !n.sc || !n.a2 || !n.kap) {
        failed = 1;
        goto done;
    }
    n.z1 = n.a1 + B * H;
    n.zc = n.z1 + B * H;
    n.pc = n.sc + B * NG_K * H;
    n.y = n.a2 + B * O;
    n.kapc = n.kap + B;
    n.Lb = n.kapc + B;

    {
        /* Fill in batch-row order so every column's rows ascend. */
        ptrdiff_t *fill = (ptrdiff_t *)malloc(((size_t)I + 1) * sizeof(ptrdiff_t));
        if (!fill) {
            failed = 1;
            goto done;
        }
        memcpy(fill, n.colptr, ((size_t)I + 1) * sizeof(ptrdiff_t));
        for (b = 0; b < B; b++) {
            for (i = 0; i < I; i++) {
                double xi = x_f32 ? (double)((const float *)x)[b * I + i]
                                  : ((const double *)x)[b * I + i];
                if (xi != 0.0) {
                    e = fill[i]++;
                    n.rows[e] = b;
                    n.xv[e] = xi;
                }
            }
            e = fill[I]++;
            n.rows[e] = b;
            n.xv[e] = 1.0;
        }
        free(fill);
    }

    for (k = 0; k < H * O; k++) {
        double a = fabs(W2[k]);
        wmax = (a > wmax || a != a) ? a : wmax;
    }
    n.wmax = wmax;

    work = ((size_t)nnz + (size_t)B) * (size_t)H;
    nt = cnet_threads_for(work, 16384);

#pragma omp parallel num_threads(nt) reduction(| : failed)
    {
        double *buf = (double *)malloc(((size_t)H * 3 + (size_t)O) * sizeof(double));
        ptrdiff_t bb, col, j;
        if (!buf)
            failed = 1;

#pragma omp for schedule(static)
        for (bb = 0; bb < B; bb++)
            ng_forward_row(&n, bb, x, x_f32);

        /* Every thread meets every worksharing loop; one without scratch
         * skips its share and the call reports failure. */
#pragma omp for schedule(dynamic, 1) nowait
        for (col = 0; col <= I; col++) {
            const double *v = col < I ? W1 + col * H : b1;
            double *g = col < I ? gW1 + col * H : gb1;
            double *dp = buf, *dm = buf + H, *acc = buf + 2 * H, *scratch = buf + 3 * H;
            if (!buf)
                continue;
            for (j = 0; j < H; j++)
                ng_perturb(v[j], params_f32, &dp[j], &dm[j]);
            ng_column(&n, col, dp, dm, acc, scratch);
            for (j = 0; j < H; j++)
                g[j] = acc[j] / (double)B / (2.0 * NG_H);
        }
#pragma omp for schedule(dynamic, 1) nowait
        for (j = 0; j <= H; j++) {
            if (!buf)
                continue;
            ng_output_row(&n, j, params_f32, j < H ? gW2 + j * O : gb2, buf + 3 * H);
        }
        free(buf);
    }

done:
    free(n.colptr);
    free(n.rows);
    free(n.xv);
    free(n.a1);
    free(n.sc);
    free(n.a2);
    free(n.kap);
    return failed ? -1 : 0;
}

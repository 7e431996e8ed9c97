/* kernel_ab: two versions of the TwoLayerNet kernels (variant.c as A and B)
 * timed in one process, their calls alternating, so that both meet the same
 * load on a shared machine. Driven by kernel_ab.py, which writes the data.
 *
 * usage: kernel_ab DATA_DIR THREADS CALLS MODE
 *   DATA_DIR  x_train.f32 (60000 x 784 float32), t_train.i64 (60000 class
 *             indices), W1.f64, b1.f64, W2.f64, b2.f64 (784-50-10)
 *   MODE      recipe: per call a new batch of 100 rows copied out of
 *             x_train, then gradient, an update of W1 by this thread, loss
 *             (the book's loop); accuracy: the correct count of all 60,000
 *             rows; predict: the output rows of the first 10,000 images;
 *             numgrad: the chapter-4 numerical gradient of a new batch of 100
 *             rows (float64 parameters), OpenMP's thread count set to THREADS
 * Prints the median time of each kernel for A and B and their ratio B / A. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define KAB_DECLARE(V)                                                                   \
    void V##_gradient_xf_wd(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *,    \
                            ptrdiff_t, const ptrdiff_t *, const double *, const double *, \
                            const double *, const double *, const double *, double *,     \
                            double *, double *, double *, int, void *);                   \
    void V##_loss_xf_wd(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *,        \
                        ptrdiff_t, const ptrdiff_t *, const double *, const double *,     \
                        const double *, const double *, double *, int, void *);           \
    void V##_correct_xf_wd(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *,     \
                           ptrdiff_t, const ptrdiff_t *, const double *, const double *,  \
                           const double *, const double *, ptrdiff_t *, int, void *);     \
    size_t V##_gradient_scratch_xf_wd(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int);    \
    size_t V##_forward_scratch_xf_wd(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, int);    \
    void V##_predict_xf_wd(ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, const float *,      \
                           ptrdiff_t, const double *, const double *, const double *,     \
                           const double *, double *, int, void *);                        \
    int V##_numgrad_two_layer(const void *, int, const intptr_t *, ptrdiff_t, ptrdiff_t,   \
                              ptrdiff_t, ptrdiff_t, const double *, const double *,       \
                              const double *, const double *, int, double *, double *,    \
                              double *, double *);
KAB_DECLARE(A)
KAB_DECLARE(B)

enum { N = 60000, I = 784, H = 50, O = 10, BATCH = 100, NPRED = 10000 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void *load(const char *dir, const char *name, size_t bytes)
{
    char path[4096];
    void *p = malloc(bytes);
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "rb");
    if (!p || !f || fread(p, 1, bytes, f) != bytes) {
        fprintf(stderr, "kernel_ab: cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    return p;
}

static int by_value(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    const char *dir;
    int nt, calls, it, o;
    float *x, *xb;
    ptrdiff_t *t, tb[BATCH], count;
    double *W1, *b1, *W2, *b2, *g1, *g2, *g3, *g4, *yp, loss, *ms[2][2];
    size_t bytes = 0, s;
    void *scratch;
    char mode;
    if (argc != 5 || (strcmp(argv[4], "recipe") && strcmp(argv[4], "accuracy") &&
                      strcmp(argv[4], "predict") && strcmp(argv[4], "numgrad"))) {
        fprintf(stderr, "usage: kernel_ab DATA_DIR THREADS CALLS recipe|accuracy|predict|numgrad\n");
        return 2;
    }
    mode = argv[4][0];
    dir = argv[1];
    nt = atoi(argv[2]);
    calls = atoi(argv[3]);
    if (nt < 1 || calls < 1) {
        fprintf(stderr, "kernel_ab: THREADS and CALLS must be >= 1\n");
        return 2;
    }
    x = load(dir, "x_train.f32", sizeof(float) * N * I);
    t = load(dir, "t_train.i64", sizeof(int64_t) * N); /* ptrdiff_t on 64-bit Linux */
    W1 = load(dir, "W1.f64", sizeof(double) * I * H);
    b1 = load(dir, "b1.f64", sizeof(double) * H);
    W2 = load(dir, "W2.f64", sizeof(double) * H * O);
    b2 = load(dir, "b2.f64", sizeof(double) * O);
    xb = malloc(sizeof(float) * BATCH * I);
    g1 = calloc(I * H, sizeof(double));
    g2 = malloc(sizeof(double) * H);
    g3 = malloc(sizeof(double) * H * O);
    g4 = malloc(sizeof(double) * O);
    yp = malloc(sizeof(double) * NPRED * O);
#ifdef _OPENMP
    omp_set_num_threads(nt); /* the numerical gradient takes OpenMP's count */
#endif
    /* one scratch block big enough for every call of either variant */
    s = A_gradient_scratch_xf_wd(BATCH, I, H, O, nt); bytes = s > bytes ? s : bytes;
    s = B_gradient_scratch_xf_wd(BATCH, I, H, O, nt); bytes = s > bytes ? s : bytes;
    s = A_forward_scratch_xf_wd(N, I, H, O, nt); bytes = s > bytes ? s : bytes;
    s = B_forward_scratch_xf_wd(N, I, H, O, nt); bytes = s > bytes ? s : bytes;
    scratch = calloc(bytes, 1);
    for (o = 0; o < 4; o++)
        ms[o / 2][o % 2] = malloc(sizeof(double) * calls);
    srand(1);
    for (it = 0; it < calls; it++) {
        int k;
        if (mode == 'r' || mode == 'n')
            for (k = 0; k < BATCH; k++) {
                const int r = rand() % N;
                memcpy(xb + (size_t)k * I, x + (size_t)r * I, sizeof(float) * I);
                tb[k] = t[r];
            }
        /* A first on even calls, B first on odd ones */
        for (o = 0; o < 2; o++) {
            const int v = (it + o) & 1;
            double t0, t1, t2;
            if (mode == 'p') {
                t0 = now();
                if (v == 0)
                    A_predict_xf_wd(NPRED, I, H, O, x, I, W1, b1, W2, b2, yp, nt, scratch);
                else
                    B_predict_xf_wd(NPRED, I, H, O, x, I, W1, b1, W2, b2, yp, nt, scratch);
                ms[v][0][it] = (now() - t0) * 1e3;
                continue;
            }
            if (mode == 'n') {
                int rc;
                t0 = now();
                if (v == 0)
                    rc = A_numgrad_two_layer(xb, 1, (const intptr_t *)tb, BATCH, I, H, O, W1, b1,
                                             W2, b2, 0, g1, g2, g3, g4);
                else
                    rc = B_numgrad_two_layer(xb, 1, (const intptr_t *)tb, BATCH, I, H, O, W1, b1,
                                             W2, b2, 0, g1, g2, g3, g4);
                ms[v][0][it] = (now() - t0) * 1e3;
                if (rc) {
                    fprintf(stderr, "kernel_ab: numerical gradient out of memory\n");
                    return 1;
                }
                continue;
            }
            if (mode == 'a') {
                t0 = now();
                if (v == 0)
                    A_correct_xf_wd(N, I, H, O, x, I, t, W1, b1, W2, b2, &count, nt, scratch);
                else
                    B_correct_xf_wd(N, I, H, O, x, I, t, W1, b1, W2, b2, &count, nt, scratch);
                ms[v][0][it] = (now() - t0) * 1e3;
                continue;
            }
            t0 = now();
            if (v == 0)
                A_gradient_xf_wd(BATCH, I, H, O, xb, I, tb, NULL, W1, b1, W2, b2, g1, g2, g3, g4,
                                 nt, scratch);
            else
                B_gradient_xf_wd(BATCH, I, H, O, xb, I, tb, NULL, W1, b1, W2, b2, g1, g2, g3, g4,
                                 nt, scratch);
            t1 = now();
            /* as params["W1"] -= lr * grad["W1"]: W1 written on this core */
            for (k = 0; k < I * H; k++)
                W1[k] -= 1e-3 * g1[k];
            t2 = now();
            if (v == 0)
                A_loss_xf_wd(BATCH, I, H, O, xb, I, tb, W1, b1, W2, b2, &loss, nt, scratch);
            else
                B_loss_xf_wd(BATCH, I, H, O, xb, I, tb, W1, b1, W2, b2, &loss, nt, scratch);
            ms[v][0][it] = (t1 - t0) * 1e6;
            ms[v][1][it] = (now() - t2) * 1e6;
        }
    }
    if (mode != 'r') {
        const double a = median(ms[0][0], calls), b = median(ms[1][0], calls);
        const char *what = mode == 'a'   ? "accuracy of 60,000 rows"
                           : mode == 'p' ? "predict of 10,000 rows"
                                         : "numerical gradient of a batch of 100";
        printf("%d threads, %s: A %.2f ms  B %.2f ms  B/A %.3f\n", nt, what, a, b, b / a);
    } else {
        const double ga = median(ms[0][0], calls), gb = median(ms[1][0], calls);
        const double la = median(ms[0][1], calls), lb = median(ms[1][1], calls);
        printf("%d threads, batch of 100: gradient A %.1f us  B %.1f us  B/A %.3f;  "
               "loss A %.1f us  B %.1f us  B/A %.3f\n",
               nt, ga, gb, gb / ga, la, lb, lb / la);
    }
    return 0;
}

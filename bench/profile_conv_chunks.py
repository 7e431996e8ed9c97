"""CPU time of each compiled step of SimpleConvNet's conv1 over the chunks of a
batch of 100 (float64, 9-image chunks as the layer makes them), one thread:
unfolding, the two products, the fused bias/ReLU/pool epilogue and its
backward rows, and the unfused bias pass for comparison.

    python bench/profile_conv_chunks.py

Medians of 25 batches of process-thread CPU time (a busy machine inflates
wall time, not this).
"""
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

import cnet
from cnet import _conv, _im2col, _pooling

cnet.set_num_threads(1)
rng = np.random.default_rng(0)
N, FN, K, OH = 100, 30, 25, 24
P = OH * OH
x = rng.random((N, 1, 28, 28))
W2d = rng.standard_normal((FN, K)) * 0.1
b = np.zeros(FN)
nb = 9
colb = np.empty(K * nb * P); outb = np.empty(FN * nb * P); doutb = np.empty(FN * nb * P)
col = lambda m: colb[:K*m*P].reshape(K, m*P)
outT = lambda m: outb[:FN*m*P].reshape(FN, m*P)
doutT = lambda m: doutb[:FN*m*P].reshape(FN, m*P)
pooled = np.empty((N, FN, 144)); am = np.empty((N, FN, 144), np.int32)
dpool = rng.standard_normal((N, FN, 144)); dW = np.empty((FN, K)); db = np.full(FN, -0.0)
out3 = np.empty((N, FN, P))
def chunks(fn):
    def run():
        for n0 in range(0, N, nb):
            m = min(nb, N - n0)
            fn(n0, m)
    return run
def f_im2col(n0, m):
    _im2col.im2col_into(x[n0:n0+m], 5, 5, 1, 0, col(m), True, 1)
def f_gemm(n0, m):
    np.dot(W2d, col(m), out=outT(m))
def f_pool(n0, m):
    _pooling.conv_rows_forward(outT(m), b, OH, OH, 2, 2, 2, pooled[n0:n0+m], am[n0:n0+m], 1)
def f_biasout(n0, m):
    _conv.bias_out(outT(m), b, out3[n0:n0+m], True, 1)
def f_bwrows(n0, m):
    _pooling.conv_rows_backward(dpool[n0:n0+m], am[n0:n0+m], pooled[n0:n0+m], OH, OH, 2, 2, 2, doutT(m), np.empty((FN, 144)), 1); _conv.row_sums(doutT(m), db, 1)
def f_dw(n0, m):
    np.dot(doutT(m), col(m).T, out=dW)
parts = dict(im2col=f_im2col, gemm_fwd=f_gemm, pool_epilogue=f_pool, bias_out_unfused=f_biasout, bw_rows=f_bwrows, gemm_dW=f_dw)
res = {k: [] for k in parts}
with threadpool_limits(1, "blas"):
    for r in range(25):
        for k, fn in parts.items():
            c0 = time.thread_time(); chunks(fn)(); res[k].append(time.thread_time() - c0)
for k, v in res.items():
    print("%-18s %.2f ms CPU (median), min %.2f" % (k, statistics.median(v) * 1e3, min(v) * 1e3))

"""The book's TwoLayerNet written with PyTorch tensor operations on the CPU.

Same formulas as ``cnet.reference.TwoLayerNet`` (sigmoid hidden layer, softmax,
the book's cross-entropy with ``+ 1e-7``, hand-written backprop), same
interface (``params`` dict updated in place by the recipe), so the benchmark
runs one training loop for every implementation. Only imported when PyTorch is
installed.
"""
import numpy as np
import torch


class TorchTwoLayerNet:
    """TwoLayerNet on torch tensors of ``dtype`` (torch.float32 or torch.float64).

    ``params`` start as copies of ``init_params`` (NumPy arrays), so every
    implementation in a benchmark starts from the same weights.
    """

    def __init__(self, init_params, dtype=torch.float64):
        self.dtype = dtype
        self.params = {k: torch.tensor(np.asarray(v), dtype=dtype)
                       for k, v in init_params.items()}

    def _x(self, x):
        x = torch.from_numpy(np.ascontiguousarray(x))
        return x if x.dtype == self.dtype else x.to(self.dtype)

    def _t_index(self, t):
        t = np.asarray(t)
        if t.ndim != 1:
            t = t.argmax(axis=1)
        return torch.from_numpy(t.astype(np.int64, copy=False))

    def _forward(self, x):
        p = self.params
        a1 = x @ p["W1"] + p["b1"]
        z1 = torch.sigmoid(a1)
        a2 = z1 @ p["W2"] + p["b2"]
        y = torch.softmax(a2, dim=1)
        return a1, z1, y

    def predict(self, x):
        with torch.no_grad():
            return self._forward(self._x(x))[2]

    def loss(self, x, t):
        with torch.no_grad():
            y = self._forward(self._x(x))[2]
            ti = self._t_index(t)
            rows = torch.arange(y.shape[0])
            return float(-torch.sum(torch.log(y[rows, ti] + 1e-7)) / y.shape[0])

    def accuracy(self, x, t, chunk=10000):
        ti = self._t_index(t)
        correct = 0
        with torch.no_grad():
            for s in range(0, x.shape[0], chunk):
                y = self._forward(self._x(x[s:s + chunk]))[2]
                correct += int((y.argmax(dim=1) == ti[s:s + chunk]).sum())
        return correct / float(x.shape[0])

    def gradient(self, x, t):
        with torch.no_grad():
            x = self._x(x)
            p = self.params
            a1, z1, y = self._forward(x)
            t = torch.from_numpy(np.asarray(t)).to(self.dtype)
            if t.ndim == 1:
                t = torch.nn.functional.one_hot(t.long(), y.shape[1]).to(self.dtype)
            dy = (y - t) / x.shape[0]
            grads = {"W2": z1.T @ dy, "b2": dy.sum(dim=0)}
            s = torch.sigmoid(a1)
            dz1 = (1.0 - s) * s * (dy @ p["W2"].T)
            grads["W1"] = x.T @ dz1
            grads["b1"] = dz1.sum(dim=0)
            return grads

    def numerical_gradient(self, x, t, keys=("W1", "b1", "W2", "b2"), limit=None):
        """The book's brute-force central difference (h = 1e-4).

        ``limit`` stops after that many parameters (for timing a sample).
        """
        h = 1e-4
        grads = {}
        done = 0
        for key in keys:
            W = self.params[key]
            flat = W.view(-1)
            g = torch.zeros_like(flat)
            for i in range(flat.numel()):
                if limit is not None and done >= limit:
                    break
                v = float(flat[i])
                flat[i] = v + h
                fxh1 = self.loss(x, t)
                flat[i] = v - h
                fxh2 = self.loss(x, t)
                g[i] = (fxh1 - fxh2) / (2 * h)
                flat[i] = v
                done += 1
            grads[key] = g.view(W.shape)
        return grads

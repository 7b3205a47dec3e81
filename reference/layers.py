"""The layers of chapters 2-8, one forward/backward pair each, for chapter 9 to assemble.

A short float64 reference, written for reading rather than speed (``reference.model`` is the
fast version of the whole network).  Every function is batch-first, like the exercises:
images and maps ``(N, C, H, W)``, conv weights ``(F, C, kh, kw)``, dense weights
``(in, out)``.  ``*_forward`` returns ``(out, cache)``; ``*_backward(dout, cache)`` returns
the gradient of the input first, then those of the layer's parameters.

    squash        f(a) = 1.7159 tanh(2a/3)                                   (chapter 2)
    conv          valid 5x5 convolution (cross-correlation), one bias per map  (chapter 2)
    subsample     sum of each 2x2 block x one coefficient + one bias per map   (chapter 3)
    sparse_conv   conv where S2 map i feeds C3 map j only if table[i, j]       (chapter 4)
    dense         x @ w + b                                                    (chapter 7)
    rbf           y_i = sum_j (x_j - c_ij)^2, fixed centres, no parameters     (chapter 8)
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from reference.model import C3_TABLE, rbf_centres

__all__ = ["squash_forward", "squash_backward", "conv_forward", "conv_backward",
           "subsample_forward", "subsample_backward", "sparse_conv_forward",
           "sparse_conv_backward", "dense_forward", "dense_backward", "rbf_forward",
           "rbf_backward", "C3_TABLE", "RBF_CENTERS"]

A, S = 1.7159, 2.0 / 3.0

#: The ten fixed RBF centres ``(10, 84)``: the Fig. 3 bitmaps, +1 ink, -1 paper.
RBF_CENTERS = np.array(rbf_centres(np.float64))


# ------------------------------------------------------------------- squashing function

def squash_forward(a):
    """f(a) = A tanh(S a), elementwise."""
    out = A * np.tanh(S * a)
    return out, out


def squash_backward(dout, cache):
    """f'(a) = S A (1 - tanh^2(S a)) = S (A - f^2 / A), from the cached output f."""
    out = cache
    return dout * S * (A - out * out / A)


# ------------------------------------------------------------------------- convolution

def conv_forward(x, w, b):
    """x (N, C, H, W), w (F, C, kh, kw), b (F,) -> (N, F, H-kh+1, W-kw+1).

    im2col: one row per output position holding its C*kh*kw inputs, times the kernels.
    """
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = h - kh + 1, wd - kw + 1
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))          # (N, C, Ho, Wo, kh, kw)
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
    out = (cols @ w.reshape(f, -1).T + b).reshape(n, ho, wo, f).transpose(0, 3, 1, 2)
    return out, (x.shape, w, cols)


def conv_backward(dout, cache):
    """-> dx (N, C, H, W), dw (F, C, kh, kw), db (F,)."""
    x_shape, w, cols = cache
    n, c, h, wd = x_shape
    f, _, kh, kw = w.shape
    ho, wo = h - kh + 1, wd - kw + 1
    d = dout.transpose(0, 2, 3, 1).reshape(n * ho * wo, f)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(axis=0)
    dcols = (d @ w.reshape(f, -1)).reshape(n, ho, wo, c, kh, kw)
    dx = np.zeros(x_shape)
    for p in range(kh):                          # each input gets back what it gave to
        for q in range(kw):                      # every window it was part of
            dx[:, :, p:p + ho, q:q + wo] += dcols[:, :, :, :, p, q].transpose(0, 3, 1, 2)
    return dx, dw, db


def sparse_conv_forward(x, w, b, table):
    """conv_forward with ``w[j, i]`` used only where ``table[i, j]`` (table: (C, F) bool)."""
    mask = table.T[:, :, None, None]                                 # (F, C, 1, 1)
    out, cache = conv_forward(x, w * mask, b)
    return out, (cache, mask)


def sparse_conv_backward(dout, cache):
    """-> dx, dw (zero where the table has no connection), db."""
    conv_cache, mask = cache
    dx, dw, db = conv_backward(dout, conv_cache)
    return dx, dw * mask, db


# ------------------------------------------------------------------------ subsampling

def subsample_forward(x, coeff, bias):
    """x (N, C, H, W) -> (N, C, H/2, W/2): coeff[c] * (sum of each 2x2 block) + bias[c]."""
    n, c, h, w = x.shape
    sums = x.reshape(n, c, h // 2, 2, w // 2, 2).sum(axis=(3, 5))
    out = coeff[None, :, None, None] * sums + bias[None, :, None, None]
    return out, (sums, coeff)


def subsample_backward(dout, cache):
    """-> dx (N, C, H, W), dcoeff (C,), dbias (C,)."""
    sums, coeff = cache
    dcoeff = (dout * sums).sum(axis=(0, 2, 3))
    dbias = dout.sum(axis=(0, 2, 3))
    dsums = dout * coeff[None, :, None, None]
    dx = np.repeat(np.repeat(dsums, 2, axis=2), 2, axis=3)          # each input of a block
    return dx, dcoeff, dbias


# ------------------------------------------------------------------------------ dense

def dense_forward(x, w, b):
    """x (N, in), w (in, out), b (out,) -> (N, out)."""
    return x @ w + b, (x, w)


def dense_backward(dout, cache):
    """-> dx (N, in), dw (in, out), db (out,)."""
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


# -------------------------------------------------------------------------------- RBF

def rbf_forward(x, centers):
    """x (N, D), centers (K, D) -> penalties (N, K), y[n, i] = sum_j (x[n, j] - c[i, j])^2."""
    diff = x[:, None, :] - centers[None, :, :]
    return np.sum(diff * diff, axis=2), diff


def rbf_backward(dout, cache):
    """-> dx (N, D) (the centres are fixed: no parameter gradient)."""
    diff = cache
    return 2.0 * np.einsum("nk,nkd->nd", dout, diff)

"""Chapter 10's two Keras-style networks in NumPy: the seed article's model and the modern variant.

The seed article of this book (V. Khandelwal, "The Architecture and Implementation of LeNet-5",
Towards AI, 2020) builds "LeNet-5" in Keras on 28x28 MNIST without padding.  Both networks
here have that shape; they differ only in their units::

    input   1@28x28   pixels / 255 (0 .. 1), no padding
    conv1   6@24x24   5x5 valid convolution, then the activation    156 parameters
    pool1   6@12x12   2x2 pooling, stride 2                            0
    conv2  16@8x8     5x5 convolution over all 6 maps, activation    2,416
    pool2  16@4x4     2x2 pooling, stride 2                            0
    dense1 120        fully connected on the 256 flattened values, activation   30,840
    dense2  84        fully connected, activation                    10,164
    dense3  10        fully connected, softmax + cross-entropy          850
                                                                     ------
                                                                     44,426

* ``variant="seed"``: the article's model as it describes it: tanh (plain ``np.tanh``, Keras'
  ``"tanh"``) after every hidden layer, 2x2 **average** pooling, softmax output;
* ``variant="modern"``: today's defaults in the same places: ReLU and 2x2 **max** pooling.

Both start from Keras' defaults (Glorot-uniform weights, zero biases) and are trained with
Adam (Kingma and Ba, 2015) on mini-batches.  Layouts follow the book: images ``(N, C, H, W)``,
conv weights ``(F, C, kh, kw)``, dense weights ``(in, out)``.  Arithmetic runs in the
parameters' dtype (float32 for training, float64 for gradient checks).

Max pooling routes the gradient of each 2x2 window to **one** input, the first maximum in
reading order (top-left, top-right, bottom-left, bottom-right), as ``np.argmax`` picks it:
with ReLU in front, windows of four zeros are common, and sending the gradient to all tied
inputs would multiply it.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Parameter names and shapes for a 28x28 input, in network order.
PARAM_SHAPES = {
    "conv1_w": (6, 1, 5, 5), "conv1_b": (6,),
    "conv2_w": (16, 6, 5, 5), "conv2_b": (16,),
    "dense1_w": (256, 120), "dense1_b": (120,),
    "dense2_w": (120, 84), "dense2_b": (84,),
    "dense3_w": (84, 10), "dense3_b": (10,),
}


def layer_params(side: int = 28) -> dict:
    """Trainable parameters per layer for a ``side`` x ``side`` input (28 -> 44,426 in all)."""
    s = side - 4            # conv1 output side
    s = s // 2 - 4          # pool1, then conv2
    flat = 16 * (s // 2) ** 2
    return {"conv1": 6 * (1 * 25 + 1), "conv2": 16 * (6 * 25 + 1),
            "dense1": (flat + 1) * 120, "dense2": (120 + 1) * 84, "dense3": (84 + 1) * 10}


def layer_connections(side: int = 28) -> dict:
    """Connections per layer (a weight use or a bias, as the paper counts them), pooling
    windows counted as 4 connections per output."""
    c1 = side - 4
    p1 = c1 // 2
    c2 = p1 - 4
    p2 = c2 // 2
    return {"conv1": 6 * c1 * c1 * 26, "pool1": 6 * p1 * p1 * 4,
            "conv2": 16 * c2 * c2 * (6 * 25 + 1), "pool2": 16 * p2 * p2 * 4,
            "dense1": (16 * p2 * p2 + 1) * 120, "dense2": 121 * 84, "dense3": 85 * 10}


def to_input(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` -> ``(N, 1, 28, 28)`` in 0 .. 1 (the Keras tutorials' scaling)."""
    images = np.asarray(images)
    return (images[:, None, :, :] / np.float32(255)).astype(dtype)


def init_params(rng=None, dtype=np.float32) -> dict:
    """Keras' defaults: Glorot-uniform weights, zero biases."""
    rng = np.random.default_rng(rng)
    params = {}
    for name, shape in PARAM_SHAPES.items():
        if name.endswith("_b"):
            params[name] = np.zeros(shape, dtype)
            continue
        if len(shape) == 4:
            fan_in, fan_out = shape[1] * shape[2] * shape[3], shape[0] * shape[2] * shape[3]
        else:
            fan_in, fan_out = shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        params[name] = rng.uniform(-limit, limit, size=shape).astype(dtype)
    return params


def count_parameters(params: dict | None = None) -> int:
    shapes = PARAM_SHAPES if params is None else {k: v.shape for k, v in params.items()}
    return sum(int(np.prod(s)) for s in shapes.values())


#: The seed article's count on a 28x28 input ("approx 45 thousand"), for both variants.
SEED_PARAMETERS = 44_426
assert count_parameters() == sum(layer_params(28).values()) == SEED_PARAMETERS


# ------------------------------------------------------------------------------- layers

def conv_forward(x, w, b):
    """Valid convolution (cross-correlation): x ``(N, C, H, W)``, w ``(F, C, k, k)``, b ``(F,)``."""
    n, c, h, wd = x.shape
    f, _, k, _ = w.shape
    ho, wo = h - k + 1, wd - k + 1
    windows = sliding_window_view(x, (k, k), axis=(2, 3))          # (N, C, Ho, Wo, k, k)
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    out = cols @ w.reshape(f, -1).T + b                             # (N*Ho*Wo, F)
    return out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2), (x.shape, cols, w)


def conv_backward(dout, cache, need_dx: bool = True):
    """Gradients of ``conv_forward``: dx (skipped when ``need_dx`` is False), dw, db."""
    xshape, cols, w = cache
    n, c, h, wd = xshape
    f, _, k, _ = w.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(axis=0)
    if not need_dx:
        return None, dw, db
    ho, wo = h - k + 1, wd - k + 1
    dcols = (w.reshape(f, c * k * k).T @ d.T).reshape(c, k, k, n, ho, wo)   # col2im below
    dx = np.zeros((c, n, h, wd), dout.dtype)
    for i in range(k):
        for j in range(k):
            dx[:, :, i:i + ho, j:j + wo] += dcols[:, i, j]
    return dx.transpose(1, 0, 2, 3), dw, db


def relu_forward(x):
    return np.maximum(x, 0), x > 0


def relu_backward(dout, cache):
    return dout * cache


def maxpool_forward(x):
    """2x2 max pooling, stride 2: ``(N, C, H, W)`` -> ``(N, C, H/2, W/2)``."""
    corners = (x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2])
    out = np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))
    # index of the first maximum in reading order (as np.argmax would pick it)
    first = np.full(out.shape, 3, dtype=np.int8)
    for k in (2, 1, 0):
        first[corners[k] == out] = k
    return out, (x.shape, first)


def maxpool_backward(dout, cache):
    shape, first = cache
    dx = np.zeros(shape, dout.dtype)
    for k, (i, j) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        dx[:, :, i::2, j::2] = np.where(first == k, dout, 0)
    return dx


def tanh_forward(x):
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    return dout * (1 - cache * cache)


def avgpool_forward(x):
    """2x2 average pooling, stride 2 (no parameters): ``(N, C, H, W)`` -> ``(N, C, H/2, W/2)``."""
    n, c, h, w = x.shape
    out = x.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5))
    return out, x.shape


def avgpool_backward(dout, cache):
    """Each output's gradient shared equally (x 1/4) by the four inputs of its window."""
    return np.repeat(np.repeat(dout / 4, 2, axis=2), 2, axis=3).reshape(cache)


#: Activation and pooling layers by name: (forward, backward).
ACTIVATIONS = {"relu": (relu_forward, relu_backward), "tanh": (tanh_forward, tanh_backward)}
POOLINGS = {"max": (maxpool_forward, maxpool_backward), "avg": (avgpool_forward, avgpool_backward)}
#: The two networks of chapter 10: (activation, pooling).
VARIANTS = {"seed": ("tanh", "avg"), "modern": ("relu", "max")}


def softmax_cross_entropy(scores, labels):
    """Mean cross-entropy of softmax(scores) ``(N, K)``; returns (loss, dscores)."""
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    n = len(labels)
    loss = -log_p[np.arange(n), labels].mean()
    d = np.exp(log_p)
    d[np.arange(n), labels] -= 1
    return float(loss), d / n


# ------------------------------------------------------------------------------ network

def forward(x, params, variant: str = "modern"):
    """Scores ``(N, 10)`` of ``variant`` ("seed" or "modern") and the cache for ``backward``."""
    act_name, pool_name = VARIANTS[variant]
    act, _ = ACTIVATIONS[act_name]
    pool, _ = POOLINGS[pool_name]
    p = params
    caches = []
    a, c = conv_forward(x, p["conv1_w"], p["conv1_b"]); caches.append(c)
    a, c = act(a); caches.append(c)
    a, c = pool(a); caches.append(c)
    a, c = conv_forward(a, p["conv2_w"], p["conv2_b"]); caches.append(c)
    a, c = act(a); caches.append(c)
    a, c = pool(a); caches.append(c)
    shape = a.shape
    a = a.reshape(len(x), -1)
    r1, m1 = act(a @ p["dense1_w"] + p["dense1_b"])
    r2, m2 = act(r1 @ p["dense2_w"] + p["dense2_b"])
    scores = r2 @ p["dense3_w"] + p["dense3_b"]
    return scores, (variant, caches, shape, a, r1, m1, r2, m2, p)


def backward(dscores, cache):
    """Gradients of every parameter (same keys as params)."""
    variant, caches, shape, a, r1, m1, r2, m2, p = cache
    act_name, pool_name = VARIANTS[variant]
    _, act_backward = ACTIVATIONS[act_name]
    _, pool_backward = POOLINGS[pool_name]
    g = {"dense3_w": r2.T @ dscores, "dense3_b": dscores.sum(0)}
    d = act_backward(dscores @ p["dense3_w"].T, m2)
    g["dense2_w"], g["dense2_b"] = r1.T @ d, d.sum(0)
    d = act_backward(d @ p["dense2_w"].T, m1)
    g["dense1_w"], g["dense1_b"] = a.T @ d, d.sum(0)
    d = (d @ p["dense1_w"].T).reshape(shape)
    d = pool_backward(d, caches[5])
    d = act_backward(d, caches[4])
    d, g["conv2_w"], g["conv2_b"] = conv_backward(d, caches[3])
    d = pool_backward(d, caches[2])
    d = act_backward(d, caches[1])
    _, g["conv1_w"], g["conv1_b"] = conv_backward(d, caches[0], need_dx=False)
    return g


def predict(params, x, batch: int = 1000, variant: str = "modern") -> np.ndarray:
    """Predicted digits ``(N,)`` of x ``(N, 1, 28, 28)``."""
    return np.concatenate([forward(x[i:i + batch], params, variant)[0].argmax(1)
                           for i in range(0, len(x), batch)])


def error_rate(params, images, labels, batch: int = 1000, variant: str = "modern") -> float:
    """Fraction misclassified; images uint8 ``(N, 28, 28)``."""
    x = to_input(images, params["conv1_w"].dtype)
    return float((predict(params, x, batch, variant) != labels).mean())


class Adam:
    """Adam (Kingma and Ba, 2015) with Keras' defaults: lr 0.001, betas 0.9/0.999, eps 1e-7."""

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, beta1, beta2, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in params.items()}
        self.v = {k: np.zeros_like(v) for k, v in params.items()}

    def step(self, params, grads):
        self.t += 1
        lr = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for k, g in grads.items():
            self.m[k] *= self.b1
            self.m[k] += (1 - self.b1) * g
            self.v[k] *= self.b2
            self.v[k] += (1 - self.b2) * g * g
            params[k] -= (lr * self.m[k] / (np.sqrt(self.v[k]) + self.eps)).astype(params[k].dtype)


def train_step(params, x, labels, optimiser, variant: str = "modern") -> float:
    """One update on the mini-batch x ``(B, 1, 28, 28)``, labels ``(B,)``, in place; its loss."""
    scores, cache = forward(x, params, variant)
    loss, d = softmax_cross_entropy(scores, labels)
    optimiser.step(params, backward(d.astype(scores.dtype), cache))
    return loss


def train_pass(params, x, labels, optimiser, rng, batch_size: int = 32, order=None,
               variant: str = "modern") -> float:
    """One pass over ``x`` ``(P, 1, 28, 28)`` in mini-batches, in place; mean training loss."""
    order = rng.permutation(len(x)) if order is None else order
    total = 0.0
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        total += train_step(params, x[idx], labels[idx], optimiser, variant) * len(idx)
    return total / len(order)

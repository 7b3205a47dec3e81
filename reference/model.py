"""Reference LeNet-5 in NumPy, as published (LeCun, Bottou, Bengio, Haffner, Proc. IEEE 1998).

The model the students rebuild layer by layer, written once, fully vectorised and fast enough
to train to the paper's accuracy in a few minutes on a laptop CPU.

Architecture (every unit up to and including F6 uses the squashing function
``f(a) = 1.7159 tanh(2a/3)``)::

    input  1@32x32   MNIST 28x28 padded with background, scaled to -0.1 .. 1.175
    C1     6@28x28   5x5 valid convolution                         156 parameters
    S2     6@14x14   2x2 sum * coefficient + bias, per map           12
    C3    16@10x10   5x5 convolution, sparse (Table I)            1,516
    S4    16@5x5     2x2 sum * coefficient + bias, per map           32
    C5   120@1x1     5x5 convolution (= dense on the 5x5 maps)   48,120
    F6    84         dense                                       10,164
    output 10        fixed RBF: y_i = sum_j (x_j - w_ij)^2           0  (centres = Fig. 3 codes)
                                                                 ------
                                                                 60,000

Public layouts: images and maps are ``(N, C, H, W)``; conv weights ``(F, C, kh, kw)``; dense
weights ``(in, out)``.  Internally every activation is stored *batch-innermost*,
``(C, H, W, N)``, so that a convolution is one matrix product ``W (F, C*25) @ cols (C*25, H*W*N)``
whose result is already the next layer's input, without any transpose.  C3's sparsity is a
fixed 0/1 mask on a dense ``(16, 6, 5, 5)`` weight array: the masked weights are zero, are
never used, and receive zero gradient.

Arithmetic runs in the dtype of the parameters: float32 for training (fast), float64 for the
finite-difference tests.

Training follows the paper's stochastic diagonal Levenberg-Marquardt method (Appendix C):
``h_kk`` is a Gauss-Newton estimate of the diagonal of the Hessian, re-estimated on 500
patterns before each pass, each parameter moves by ``eta / (mu + h_kk)`` times its gradient,
``mu = 0.02``, and ``eta`` follows the paper's 20-pass schedule (``learning_rate``).

What differs from the paper in the shipped recipe (``RECIPE``, ``fit``), and why:

* updates use the *mean* gradient of mini-batches of 16 patterns instead of one pattern at a
  time (``batch_size=1`` is the paper's rule and is supported), for speed;
* the whole eta schedule is multiplied by ``RECIPE["rate_scale"]`` and, in pass 1 only, by
  ``RECIPE["first_pass_scale"]`` as well.  Taken literally (per pattern, eta = 0.0005) the
  schedule diverged here within the first few thousand patterns.  Why is not settled: the
  paper reports first-pass effective step sizes of about 7e-5 to 0.016 (p. 10), none at the
  cap eta/mu = 0.025, so "h_kk starts near 0" does not explain it, and this estimate of h_kk
  differs from the paper's (below);
* ``estimate_hessian`` seeds the second-order pass with the curvature of the MLE term only;
  the paper's Gauss-Newton approximation keeps the loss function's non-linearity (Appendix
  C, p. 42: it "ignores the non-linearity of the estimated function ... but not that of the
  loss function");
* j of eq. 9, which the paper does not give, is ``MAP_J``.

The shipped weights (``load_trained``; ``python -m scripts.train_lenet5``, seed 0, 20 passes
without distortions) reach 0.81% test error and 0.345% training error (paper: 0.95% and
0.35%; the paper's training error is measured during each pass, Fig. 5, this one after it, so
the two are not the same quantity); the test error is at or below 1.0% from pass 8 on.  The
run took about 4 minutes of CPU time on one core (the log does not record the machine).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

from lenet5.data import WEIGHTS_PATH, rbf_bitmaps

# ----------------------------------------------------------------------------- constants

#: Squashing function f(a) = A tanh(S a) (eq. 6, Appendix A): f(1) = 1, f(-1) = -1.
A_SQUASH = 1.7159
S_SQUASH = 2.0 / 3.0

#: Input scaling (p. 7): background (0) -> -0.1, full ink (255) -> 1.175.
INPUT_LOW, INPUT_HIGH = -0.1, 1.175

#: SDLM safety constant (Appendix C).
MU = 0.02

#: j of eq. 9 (the paper does not give its value).
MAP_J = 5.0

#: Settings of the shipped training run (see the module docstring and ``fit``).
RECIPE = {"batch_size": 16, "rate_scale": 2.0, "first_pass_scale": 0.25, "loss": "map",
          "j": MAP_J}

#: Patterns used to re-estimate the diagonal Hessian before each pass (Appendix C).
HESSIAN_PATTERNS = 500

#: Where the shipped trained weights live.

# Table I: which S2 maps (rows) feed each C3 map (columns).
_C3_INPUTS = [(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
              (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
              (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5)]
#: ``(6, 16)`` bool: ``C3_TABLE[i, j]`` is True where S2 map i feeds C3 map j (paper's Table I).
C3_TABLE = np.zeros((6, 16), dtype=bool)
for _j, _inputs in enumerate(_C3_INPUTS):
    C3_TABLE[list(_inputs), _j] = True
C3_TABLE.setflags(write=False)
del _j, _inputs

#: ``(16, 6, 1, 1)`` 0/1 mask broadcasting over C3_w ``(16, 6, 5, 5)``.
_C3_MASK = C3_TABLE.T[:, :, None, None].astype(np.float64)

#: Parameter names and shapes, in network order.
PARAM_SHAPES = {
    "C1_w": (6, 1, 5, 5), "C1_b": (6,),
    "S2_coeff": (6,), "S2_bias": (6,),
    "C3_w": (16, 6, 5, 5), "C3_b": (16,),
    "S4_coeff": (16,), "S4_bias": (16,),
    "C5_w": (120, 16, 5, 5), "C5_b": (120,),
    "F6_w": (120, 84), "F6_b": (84,),
}

LAYERS = ("input", "C1", "S2", "C3", "S4", "C5", "F6", "output")

# ------------------------------------------------------------------------ small helpers


_CENTRES: dict = {}


def rbf_centres(dtype=np.float64) -> np.ndarray:
    """The fixed RBF centres: ``(10, 84)``, row i = Fig. 3 bitmap of digit i, row-major, +-1.

    Read once per dtype and cached (read-only).
    """
    dtype = np.dtype(dtype)
    if dtype not in _CENTRES:
        centres = rbf_bitmaps().reshape(10, 84).astype(dtype)
        centres.setflags(write=False)
        _CENTRES[dtype] = centres
    return _CENTRES[dtype]


def count_parameters(params: dict | None = None) -> int:
    """Trainable parameters, counting only Table-I-connected C3 weights (60,000)."""
    shapes = PARAM_SHAPES if params is None else {k: np.shape(v) for k, v in params.items()}
    total = sum(int(np.prod(s)) for k, s in shapes.items() if k != "C3_w")
    return total + int(C3_TABLE.sum()) * 25


def count_connections() -> int:
    """Connections of the network, as counted in the paper (340,908)."""
    c1 = 28 * 28 * 6 * (25 + 1)
    s2 = 14 * 14 * 6 * (4 + 1)
    c3 = 10 * 10 * (int(C3_TABLE.sum()) * 25 + 16)
    s4 = 5 * 5 * 16 * (4 + 1)
    c5 = 120 * (400 + 1)
    f6 = 84 * (120 + 1)
    rbf = 10 * 84
    return c1 + s2 + c3 + s4 + c5 + f6 + rbf


def to_input(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """MNIST pixels to network input.

    images: ``(N, 28, 28)`` uint8 (0 = background).  Returns ``(N, 1, 32, 32)`` ``dtype`` with
    ``x = p * 1.275 / 255 - 0.1`` (so -0.1 .. 1.175), padded by 2 pixels of background (-0.1).
    """
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise ValueError(f"images must be (N, 28, 28), got {images.shape}")
    x = np.full((len(images), 1, 32, 32), INPUT_LOW, dtype=dtype)
    scale = (INPUT_HIGH - INPUT_LOW) / 255.0
    x[:, 0, 2:30, 2:30] = images * scale + INPUT_LOW
    return x


def squash(a: np.ndarray) -> np.ndarray:
    """f(a) = 1.7159 tanh(2a/3), elementwise (the network computes the same with the
    constants folded into its weight matrices, see ``Workspace``)."""
    return A_SQUASH * np.tanh(S_SQUASH * a)


def _windows(x: np.ndarray, k: int = 5) -> np.ndarray:
    """Read-only view ``(C, k, k, Ho, Wo, N)`` of the k x k windows of x ``(C, H, W, N)``."""
    c, h, w, n = x.shape
    s = x.strides
    return as_strided(x, (c, k, k, h - k + 1, w - k + 1, n),
                      (s[0], s[1], s[2], s[1], s[2], s[3]), writeable=False)


def _chunks(a: np.ndarray, k: int) -> np.ndarray:
    """View ``(P/k, R, k)`` of a ``(R, P)`` matrix: its column blocks of width k, stacked.

    Matrix products on these stacks (one BLAS call per block, each block small enough to stay
    in cache) run several times faster here than one product over the full width."""
    r, p = a.shape
    return a.reshape(r, p // k, k).transpose(1, 0, 2)


def _blocks(x: np.ndarray) -> np.ndarray:
    """View ``(C, H/2, 2, W/2, 2, N)`` of x ``(C, H, W, N)``: its non-overlapping 2x2 blocks."""
    c, h, w, n = x.shape
    return x.reshape(c, h // 2, 2, w // 2, 2, n)


# ------------------------------------------------------------------------- parameters


def init_params(rng: np.random.Generator | int | None = None, dtype=np.float32) -> dict:
    """Fan-in initialisation (Appendix A): weights ~ U(-2.4/F_i, 2.4/F_i), biases 0.

    F_i is the number of inputs of the unit: 25 for C1, 75/100/150 for C3 maps with 3/4/6
    inputs, 4 for the subsampling coefficients, 400 for C5, 120 for F6.  The paper does not
    say how biases start; they start at 0.  Shapes: see ``PARAM_SHAPES``.
    """
    rng = np.random.default_rng(rng)

    def uniform(shape, fan_in):
        return rng.uniform(-2.4, 2.4, size=shape) / fan_in

    c3_fan_in = 25.0 * C3_TABLE.sum(axis=0)                       # (16,)
    p = {
        "C1_w": uniform((6, 1, 5, 5), 25.0), "C1_b": np.zeros(6),
        "S2_coeff": uniform((6,), 4.0), "S2_bias": np.zeros(6),
        "C3_w": uniform((16, 6, 5, 5), c3_fan_in[:, None, None, None]) * _C3_MASK,
        "C3_b": np.zeros(16),
        "S4_coeff": uniform((16,), 4.0), "S4_bias": np.zeros(16),
        "C5_w": uniform((120, 16, 5, 5), 400.0), "C5_b": np.zeros(120),
        "F6_w": uniform((120, 84), 120.0), "F6_b": np.zeros(84),
    }
    params = {k: v.astype(dtype) for k, v in p.items()}
    assert count_parameters(params) == 60_000
    return params


def save_params(path, params: dict, **meta) -> None:
    """Write params (and JSON-serialisable metadata, stored under key ``meta``) to ``.npz``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **params, meta=np.array(json.dumps(meta)))


def load_params(path, with_meta: bool = False):
    """Read an ``.npz`` written by ``save_params``; returns params (and the metadata dict)."""
    with np.load(path, allow_pickle=False) as f:
        params = {k: f[k] for k in PARAM_SHAPES}
        meta = json.loads(str(f["meta"])) if "meta" in f.files else {}
    for k, shape in PARAM_SHAPES.items():
        if params[k].shape != shape:
            raise ValueError(f"{path}: {k} has shape {params[k].shape}, expected {shape}")
    return (params, meta) if with_meta else params


def load_trained(with_meta: bool = False):
    """The shipped trained weights ``data/weights/lenet5.npz`` (see scripts/train_lenet5.py)."""
    if not WEIGHTS_PATH.exists():
        raise FileNotFoundError(f"{WEIGHTS_PATH} is missing; run python -m scripts.train_lenet5")
    return load_params(WEIGHTS_PATH, with_meta=with_meta)


# ---------------------------------------------------------------------- forward/backward

_SA = S_SQUASH * A_SQUASH

#: Images per column block in the C1 matrix products (see ``_chunks``; C3 needs none).
_C1_BLOCK_IMAGES = 4


class Workspace:
    """Buffers, views and packed weights for forward/backward passes on batches of n patterns.

    Activations are stored batch-innermost, ``(C, H, W, n)``.  Each trainable layer is one
    matrix product with its bias folded in: a packed matrix ``M = [scaled W | scaled b]``
    times the layer input with a row of ones appended (C1, C3: the im2col matrix of 5x5
    windows; C5, F6: the previous vector).  The constants of the squashing function are
    folded into M as well: the buffers hold ``t = tanh(S a)`` (so ``f(a) = A t``), and a layer
    fed by ``A t`` uses ``M = S A W`` for its weights and ``S b`` for its bias.  Everything is
    allocated once; a pass is a fixed sequence of in-place NumPy calls.

    A workspace holds the state of its *latest* forward pass only: ``backward`` must use the
    cache of that pass (it raises otherwise).  ``forward(x, params)`` without a workspace uses
    a fresh one, so casual use is always safe; training reuses one per batch size.
    """

    def __init__(self, n: int, dtype=np.float32):
        self.n, self.dtype = n, np.dtype(dtype)
        self.generation = 0

        def e(*shape):
            return np.empty(shape, self.dtype)

        t = self.dtype.type
        self.S, self.SA, self.A = t(S_SQUASH), t(_SA), t(A_SQUASH)
        # packed matrices (bias in the last column) and subsampling coefficient/bias
        self.M1, self.M3, self.M5, self.M6 = e(6, 26), e(16, 151), e(120, 401), e(84, 121)
        self.c2, self.b2 = e(6, 1, 1, 1), e(6, 1, 1, 1)
        self.c4, self.b4 = e(16, 1, 1, 1), e(16, 1, 1, 1)
        self.mask3 = np.repeat(C3_TABLE.T.astype(self.dtype), 25, axis=1) * self.SA  # (16, 150)
        # grads of M in parameter units: dE/dW = (dE/dM) * d(M)/dW
        self.scale = {"M1": np.full(26, t(S_SQUASH), self.dtype),
                      "M3": np.concatenate([self.mask3, np.full((16, 1), t(S_SQUASH))], 1),
                      "M5": np.r_[np.full(400, _SA), S_SQUASH].astype(self.dtype),
                      "M6": np.r_[np.full(120, _SA), S_SQUASH].astype(self.dtype)}
        # RBF: y_i = sum_j (A t_j - c_ij)^2 = [-2A c_i | A^2 .. A^2 | |c_i|^2] @ [t; t*t; 1]
        c = rbf_centres(np.float64)
        self.R = np.concatenate([-2 * A_SQUASH * c, np.full((10, 84), A_SQUASH ** 2),
                                 (c * c).sum(1, keepdims=True)], 1).astype(self.dtype)
        # d/dt of the same: [-2A c^T ; 2A^2 ...] (the t*t rows get multiplied by t)
        self.dR = np.concatenate([-2 * A_SQUASH * c, np.full((10, 84), 2 * A_SQUASH ** 2)],
                                 1).T.astype(self.dtype).copy()                       # (168,10)
        # forward buffers
        self.x0 = e(1, 32, 32, n)
        self.cols1 = e(26, 784 * n)
        self.cols1[25] = 1
        self.t1 = e(6, 28, 28, n)
        self.t1_2d = self.t1.reshape(6, 784 * n)
        self.p2, self.t2 = e(6, 14, 14, n), e(6, 14, 14, n)
        self.cols3 = e(151, 100 * n)
        self.cols3[150] = 1
        self.t3 = e(16, 10, 10, n)
        self.t3_2d = self.t3.reshape(16, 100 * n)
        self.p4 = e(16, 5, 5, n)
        self.x5 = e(401, n)
        self.x5[400] = 1
        self.t4 = self.x5[:400].reshape(16, 5, 5, n)
        self.x6 = e(121, n)
        self.x6[120] = 1
        self.t5 = self.x6[:120]
        self.r = e(169, n)
        self.r[168] = 1
        self.t6, self.t6sq = self.r[:84], self.r[84:168]
        self.y = e(10, n)
        # views built once
        self.cols1_src = _windows(self.x0)
        self.cols1_dst = self.cols1[:25].reshape(1, 5, 5, 28, 28, n)
        self.cols3_src = _windows(self.t2)
        self.cols3_dst = self.cols3[:150].reshape(6, 5, 5, 10, 10, n)
        self.t1_b, self.t3_b = _blocks(self.t1), _blocks(self.t3)
        # column blocks for the C1 products: the positions of a few whole images per block
        self.k1 = 784 * max(d for d in range(1, _C1_BLOCK_IMAGES + 1) if n % d == 0)
        self.cols1_ch, self.t1_ch = _chunks(self.cols1, self.k1), _chunks(self.t1_2d, self.k1)
        self._back = None

    # ------------------------------------------------------------------ forward

    def load(self, params: dict) -> None:
        """Pack params into the folded matrices (a handful of small copies)."""
        S, SA = self.S, self.SA
        np.multiply(params["C1_w"].reshape(6, 25), S, out=self.M1[:, :25])
        np.multiply(params["C1_b"], S, out=self.M1[:, 25])
        np.multiply(params["C3_w"].reshape(16, 150), self.mask3, out=self.M3[:, :150])
        np.multiply(params["C3_b"], S, out=self.M3[:, 150])
        np.multiply(params["C5_w"].reshape(120, 400), SA, out=self.M5[:, :400])
        np.multiply(params["C5_b"], S, out=self.M5[:, 400])
        np.multiply(params["F6_w"].T, SA, out=self.M6[:, :120])
        np.multiply(params["F6_b"], S, out=self.M6[:, 120])
        for c, b, kc, kb in ((self.c2, self.b2, "S2_coeff", "S2_bias"),
                             (self.c4, self.b4, "S4_coeff", "S4_bias")):
            np.multiply(params[kc], SA, out=c.reshape(-1))
            np.multiply(params[kb], S, out=b.reshape(-1))

    @staticmethod
    def _pool(blocks, out):
        """out = sum of each 2x2 block (blocks: ``_blocks`` view)."""
        np.add(blocks[:, :, 0, :, 0], blocks[:, :, 0, :, 1], out=out)
        np.add(out, blocks[:, :, 1, :, 0], out=out)
        np.add(out, blocks[:, :, 1, :, 1], out=out)

    def forward(self, x: np.ndarray, params: dict) -> np.ndarray:
        """x ``(n, 1, 32, 32)`` -> penalties ``(10, n)`` (a buffer of this workspace)."""
        self.load(params)
        np.copyto(self.x0, np.asarray(x).transpose(1, 2, 3, 0))
        np.copyto(self.cols1_dst, self.cols1_src)                       # im2col
        np.matmul(self.M1, self.cols1_ch, out=self.t1_ch)               # C1
        np.tanh(self.t1_2d, out=self.t1_2d)
        self._pool(self.t1_b, self.p2)                                  # S2
        np.multiply(self.p2, self.c2, out=self.t2)
        np.add(self.t2, self.b2, out=self.t2)
        np.tanh(self.t2, out=self.t2)
        np.copyto(self.cols3_dst, self.cols3_src)                       # im2col
        np.matmul(self.M3, self.cols3, out=self.t3_2d)                  # C3
        np.tanh(self.t3_2d, out=self.t3_2d)
        self._pool(self.t3_b, self.p4)                                  # S4
        np.multiply(self.p4, self.c4, out=self.t4)
        np.add(self.t4, self.b4, out=self.t4)
        np.tanh(self.t4, out=self.t4)
        np.matmul(self.M5, self.x5, out=self.t5)                        # C5
        np.tanh(self.t5, out=self.t5)
        np.matmul(self.M6, self.x6, out=self.t6)                        # F6
        np.tanh(self.t6, out=self.t6)
        np.multiply(self.t6, self.t6, out=self.t6sq)
        np.matmul(self.R, self.r, out=self.y)                           # RBF
        self.generation += 1
        return self.y

    # ----------------------------------------------------------------- backward

    def _alloc_backward(self):
        n, e = self.n, (lambda *shape: np.empty(shape, self.dtype))
        b = {"dr": e(168, n), "g5": e(120, n), "g4": e(400, n), "g3": e(16, 10, 10, n),
             "g2": e(6, 14, 14, n), "g1": e(6, 28, 28, n),
             "tmp": e(6 * 784 * n)}
        b["g3_b"], b["g1_b"] = _blocks(b["g3"]), _blocks(b["g1"])
        b["g1_ch"] = _chunks(b["g1"].reshape(6, -1), self.k1)
        # col2im: dE/dS2 = sum over the 25 kernel offsets of shifted slices of W^T g
        b["dcols3"] = e(150, 100 * n)
        d = b["dcols3"].reshape(6, 5, 5, 10, 10, n)
        b["col2im"] = [(b["g2"][:, ky:ky + 10, kx:kx + 10], d[:, ky, kx])
                       for ky in range(5) for kx in range(5)]
        self._back = b
        return b

    def _through_tanh(self, g, t, square):
        """g *= dt/dz = 1 - t^2 (squared for second derivatives), in place."""
        u = self._back["tmp"][:t.size].reshape(t.shape)
        np.multiply(t, t, out=u)
        np.subtract(1, u, out=u)
        if square:
            np.multiply(u, u, out=u)
        np.multiply(g, u, out=g)

    def _subsample_back(self, g, p, c, g_in_blocks, square):
        """Grads of a subsampling layer from g = dE/dz; writes dE/d(input t) to its blocks."""
        dc = np.einsum("chwn,chwn->c", g, p * p if square else p)
        db = g.sum(axis=(1, 2, 3))
        gp = g * (c * c if square else c)
        np.copyto(g_in_blocks, gp[:, :, None, :, None])
        return dc, db

    @staticmethod
    def _weight_grad(g_ch, cols, k, square):
        """sum over positions of g (x) cols: ``(F, K)`` from g in column blocks ``(P/k, F, k)``
        and cols ``(K, P)`` (squared for second derivatives)."""
        c_ch = _chunks(cols * cols if square else cols, k).transpose(0, 2, 1)
        return np.matmul(g_ch, c_ch).sum(axis=0)

    def backward(self, gy: np.ndarray, square: bool = False) -> dict:
        """Gradients from gy = dE/dy ``(10, n)`` of the latest forward pass.

        ``square=True``: Gauss-Newton diagonal second derivatives instead (gy is then
        d^2E/dx_j^2 at the RBF input ``(84, n)`` in units of f(a); weights, inputs and
        tanh slopes enter squared).  Returns a dict keyed like the params.
        """
        b = self._back or self._alloc_backward()
        sq = (lambda m: m * m) if square else (lambda m: m)
        dr = b["dr"]
        g6 = dr[:84]
        if square:                         # d2E/dt^2 = A^2 d2E/d(At)^2
            np.multiply(gy, self.A * self.A, out=g6)
        else:
            np.matmul(self.dR, gy, out=dr)
            np.multiply(dr[84:], self.t6, out=dr[84:])
            np.add(g6, dr[84:], out=g6)
        self._through_tanh(g6, self.t6, square)
        dM6 = np.dot(g6, sq(self.x6).T)                                     # F6
        np.matmul(sq(self.M6[:, :120]).T, g6, out=b["g5"])
        self._through_tanh(b["g5"], self.t5, square)
        dM5 = np.dot(b["g5"], sq(self.x5).T)                                # C5
        np.matmul(sq(self.M5[:, :400]).T, b["g5"], out=b["g4"])
        g4 = b["g4"].reshape(self.t4.shape)
        self._through_tanh(g4, self.t4, square)
        dc4, db4 = self._subsample_back(g4, self.p4, self.c4, b["g3_b"], square)  # S4
        g3 = b["g3"].reshape(16, 100 * self.n)
        self._through_tanh(g3, self.t3.reshape(g3.shape), square)
        dM3 = np.dot(g3, sq(self.cols3).T)                                  # C3
        np.matmul(sq(self.M3[:, :150]).T, g3, out=b["dcols3"])
        b["g2"].fill(0)
        for dst, src in b["col2im"]:                                        # col2im
            np.add(dst, src, out=dst)
        self._through_tanh(b["g2"], self.t2, square)
        dc2, db2 = self._subsample_back(b["g2"], self.p2, self.c2, b["g1_b"], square)
        g1 = b["g1"].reshape(6, 784 * self.n)
        self._through_tanh(g1, self.t1.reshape(g1.shape), square)
        dM1 = self._weight_grad(b["g1_ch"], self.cols1, self.k1, square)    # C1
        # back to parameter units (masking absent C3 connections)
        for m, name in ((dM1, "M1"), (dM3, "M3"), (dM5, "M5"), (dM6, "M6")):
            np.multiply(m, sq(self.scale[name]), out=m)
        S, SA = sq(self.S), sq(self.SA)
        return {"C1_w": dM1[:, :25].reshape(6, 1, 5, 5), "C1_b": dM1[:, 25],
                "S2_coeff": dc2 * SA, "S2_bias": db2 * S,
                "C3_w": dM3[:, :150].reshape(16, 6, 5, 5), "C3_b": dM3[:, 150],
                "S4_coeff": dc4 * SA, "S4_bias": db4 * S,
                "C5_w": dM5[:, :400].reshape(120, 16, 5, 5), "C5_b": dM5[:, 400],
                "F6_w": dM6[:, :120].T, "F6_b": dM6[:, 120]}

    def maps(self) -> dict:
        """Activations f(a) = A t of the latest forward pass, float64, ``(n, C, H, W)``."""
        def nchw(t):
            return np.moveaxis(t, -1, 0) * A_SQUASH
        return {"C1": nchw(self.t1), "S2": nchw(self.t2), "C3": nchw(self.t3),
                "S4": nchw(self.t4), "C5": nchw(self.t5), "F6": nchw(self.t6)}


def forward(x: np.ndarray, params: dict, workspace: Workspace | None = None):
    """Penalties of a batch and the cache for ``backward``.

    x: ``(N, 1, 32, 32)`` (from ``to_input``).  Returns ``penalties (N, 10)`` (RBF outputs
    y_i; the smallest is the predicted class) and a cache.  Computes in the params' dtype.
    ``workspace``: a ``Workspace(N, dtype)`` to reuse (training); default a fresh one.
    """
    dtype = params["C1_w"].dtype
    if workspace is None:
        workspace = Workspace(len(x), dtype)
    elif workspace.n != len(x) or workspace.dtype != dtype:
        raise ValueError(f"workspace is for {workspace.n} x {workspace.dtype}, "
                         f"got {len(x)} x {dtype}")
    y = workspace.forward(x, params)
    return y.T.copy(), (workspace, workspace.generation)


def _workspace_of(cache) -> Workspace:
    ws, generation = cache
    if ws.generation != generation:
        raise RuntimeError("stale cache: its workspace has run another forward pass since; "
                           "call backward before reusing the workspace")
    return ws


def backward(dpenalties: np.ndarray, cache) -> dict:
    """Gradients of the loss w.r.t. every parameter (same keys and shapes as params).

    dpenalties: ``(N, 10)`` dE/dy for the batch of the ``forward`` call that made ``cache``.
    Some of the arrays returned are views of one packed gradient matrix per layer.
    """
    ws = _workspace_of(cache)
    return ws.backward(np.asarray(dpenalties, dtype=ws.dtype).T)


def layer_outputs(x: np.ndarray, params: dict) -> dict:
    """Every layer's activations, float64, for figures.

    Maps in ``(N, C, H, W)``: input (N,1,32,32), C1 (N,6,28,28), S2 (N,6,14,14),
    C3 (N,16,10,10), S4 (N,16,5,5); vectors: C5 (N,120), F6 (N,84), output (N,10) penalties.
    Activations are after the squashing function.
    """
    y, cache = forward(x, params)
    out = {"input": np.asarray(x, dtype=np.float64)}
    out.update(cache[0].maps())
    out["output"] = y.astype(np.float64)
    return out


def predict(penalties: np.ndarray) -> np.ndarray:
    """Predicted digits ``(N,)``: the class with the smallest RBF penalty."""
    return np.argmin(penalties, axis=1)


def error_rate(params: dict, images: np.ndarray, labels: np.ndarray, batch: int = 500) -> float:
    """Fraction of misclassified images; images ``(N, 28, 28)`` uint8, labels ``(N,)``."""
    dtype = params["C1_w"].dtype
    workspaces: dict = {}
    wrong = 0
    for i in range(0, len(images), batch):
        x = to_input(images[i:i + batch], dtype)
        ws = workspaces.get(len(x)) or workspaces.setdefault(len(x), Workspace(len(x), dtype))
        y, _ = forward(x, params, ws)
        wrong += int((predict(y) != labels[i:i + batch]).sum())
    return wrong / len(images)


# ---------------------------------------------------------------------------- losses


def mle_loss(penalties: np.ndarray, labels: np.ndarray):
    """Eq. 8: E = mean_p y_{D_p}.  Returns (loss, dE/dpenalties ``(N, 10)``)."""
    n = len(labels)
    rows = np.arange(n)
    d = np.zeros_like(penalties)
    d[rows, labels] = 1.0 / n
    return float(penalties[rows, labels].mean()), d


def map_loss(penalties: np.ndarray, labels: np.ndarray, j: float = MAP_J):
    """Eq. 9: E = mean_p ( y_{D_p} + log(e^{-j} + sum_i e^{-y_i}) ).

    Equivalent to cross-entropy over logits ``-y`` plus a "rubbish" class of constant logit
    ``-j``: wrong classes with a penalty not well above the correct one's are pushed up.
    Returns (loss, dE/dpenalties ``(N, 10)``), in the dtype of the penalties.  The paper does
    not give j; ``MAP_J`` is used by default.
    """
    n = len(labels)
    rows = np.arange(n)
    shift = np.minimum(penalties.min(axis=1), j)[:, None]          # for a stable exp
    e = np.exp(shift - penalties)                                   # e^{-y_i} / e^{-shift}
    z = e.sum(axis=1, keepdims=True)
    z += np.exp(shift - j)                                          # + e^{-j} / e^{-shift}
    loss = float((penalties[rows, labels] - shift[:, 0] + np.log(z[:, 0])).mean())
    e /= z
    e *= -1.0 / n
    e[rows, labels] += 1.0 / n
    return loss, e


LOSSES = {"map": map_loss, "mle": mle_loss}

# ------------------------------------------------------------------------- optimiser


def learning_rate(pass_index: int) -> float:
    """The paper's global step eta for pass ``pass_index`` (1-based, 20 passes; p. 10)."""
    if pass_index < 1:
        raise ValueError("passes are numbered from 1")
    for last, eta in ((2, 5e-4), (5, 2e-4), (8, 1e-4), (12, 5e-5)):
        if pass_index <= last:
            return eta
    return 1e-5


def estimate_hessian(params: dict, x: np.ndarray) -> dict:
    """Gauss-Newton diagonal Hessian h_kk per pattern, averaged over x ``(N, 1, 32, 32)``.

    Second derivatives are back-propagated from the output with f'(a)^2, squared weights and
    squared inputs, summed over the positions sharing a weight (Appendix C).  The seed at the
    RBF input is the curvature of the MLE term (eq. 8), d^2 y_D / d x_j^2 = 2, which leaves out
    the curvature of eq. 9's log-sum-exp term: the paper's estimate keeps the loss's own
    non-linearity (Appendix C, p. 42), so this is a departure (see the module docstring).
    """
    _, cache = forward(x, params)
    ws = _workspace_of(cache)
    h = ws.backward(np.full((84, len(x)), 2.0, dtype=ws.dtype), square=True)
    return {k: v / len(x) for k, v in h.items()}


def sdlm_steps(hessian: dict, eta: float, mu: float = MU) -> dict:
    """Per-parameter step sizes eta / (mu + h_kk) (zero for absent C3 connections)."""
    return {k: (eta / (mu + h)).astype(h.dtype) for k, h in hessian.items()}


def sdlm_update(params: dict, grads: dict, steps: dict) -> None:
    """In place: ``params[k] -= steps[k] * grads[k]`` for every parameter (grads are consumed)."""
    for k, g in grads.items():
        g *= steps[k]
        params[k] -= g


def train_pass(params: dict, x: np.ndarray, labels: np.ndarray, eta: float,
               rng: np.random.Generator, batch_size: int = 1, loss: str = "map",
               j: float = MAP_J, mu: float = MU, order: np.ndarray | None = None) -> float:
    """One pass of SDLM over the training set, in place; returns the mean training loss.

    x: ``(P, 1, 32, 32)``, labels ``(P,)``.  Before the pass, h_kk is re-estimated on
    ``HESSIAN_PATTERNS`` patterns drawn with ``rng``; then every mini-batch of ``batch_size``
    patterns (1 = the paper) moves each parameter by ``eta / (mu + h_kk)`` times the mean
    gradient of the batch.  ``order``: order of presentation (the paper keeps one random order
    for all passes); default a fresh permutation from ``rng``.
    """
    sample = rng.choice(len(x), size=HESSIAN_PATTERNS, replace=False)
    steps = sdlm_steps(estimate_hessian(params, x[sample]), eta, mu)
    order = rng.permutation(len(x)) if order is None else order
    loss_fn = LOSSES[loss]
    kwargs = {"j": j} if loss == "map" else {}
    workspaces: dict = {}
    total = 0.0
    for i in range(0, len(order), batch_size):
        idx = order[i:i + batch_size]
        ws = workspaces.get(len(idx)) or workspaces.setdefault(
            len(idx), Workspace(len(idx), params["C1_w"].dtype))
        y, cache = forward(x[idx], params, ws)
        value, dy = loss_fn(y, labels[idx], **kwargs)
        sdlm_update(params, backward(dy, cache), steps)
        total += value * len(idx)
    return total / len(order)


def fit(params: dict, x: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
        passes: int = 20, batch_size: int = RECIPE["batch_size"],
        rate_scale: float = RECIPE["rate_scale"],
        first_pass_scale: float = RECIPE["first_pass_scale"], loss: str = RECIPE["loss"],
        j: float = RECIPE["j"]):
    """Train in place, pass by pass; a generator yielding ``(pass_index, eta, mean_loss)``.

    eta of pass p = ``learning_rate(p) * rate_scale`` (times ``first_pass_scale`` in pass 1);
    the patterns are presented in one random order, the same for every pass.  The defaults
    are the shipped recipe (``RECIPE``); ``batch_size=1, rate_scale=1, first_pass_scale=1``
    is the paper's schedule taken literally.
    """
    order = rng.permutation(len(x))
    for p in range(1, passes + 1):
        eta = learning_rate(p) * rate_scale * (first_pass_scale if p == 1 else 1.0)
        yield p, eta, train_pass(params, x, labels, eta, rng, batch_size=batch_size,
                                 loss=loss, j=j, order=order)

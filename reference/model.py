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
finite-difference tests.  ``PatternTrainer`` is the per-pattern fast path (one update per
pattern, the paper's rule): the same arithmetic as ``Workspace(1)`` laid out for batch 1
(parameters packed in one vector, maps stored flat with fixed row strides so that im2col and
col2im are a few contiguous copies and additions), about 100 NumPy calls per update.

Training is the paper's stochastic diagonal Levenberg-Marquardt method (Appendix C): ``h_kk``
is a Gauss-Newton estimate of the diagonal of the Hessian, re-estimated on 500 patterns
before each pass (second derivatives back-propagated with f'(a)^2, squared weights and
squared inputs, summed over the connections that share a weight), each parameter moves by
``eta / (mu + h_kk)`` times its gradient, ``mu = 0.02``, ``eta`` follows the paper's 20-pass
schedule (``learning_rate``), the patterns come in one random order kept for every pass, and
the loss is eq. 9 with j = ``MAP_J`` (the paper does not give j).  ``RECIPES`` names the
variants ``fit`` runs:

* ``"fast"`` (``RECIPE``, the shipped weights): mean gradients of mini-batches of 16, the
  eta schedule x0.5 in pass 1 and x2 in passes 2-20, and h_kk seeded with the curvature of
  eq. 8's term only (2 per F6 output), not with that of eq. 9;
* ``"paper"``: the procedure as printed: one update per pattern, the schedule unscaled,
  h_kk seeded with the curvature of eq. 9 itself (``loss_curvature``: the Gauss-Newton
  approximation "ignores the non-linearity of the estimated function ... but not that of
  the loss function", Appendix C p. 42), weights U(+-2.4/F_i).  It diverges here within the
  first 1,000 patterns (``data/results/lenet5_paper_training_log.json``);
* ``"paper_sqrt_init"``: the same with weights U(+-2.4/sqrt(F_i)).

Why the literal recipe diverges (``scripts/investigate_divergence.py``, output in
``data/results/investigate_divergence.txt``): with U(+-2.4/F_i) the activations shrink from
layer to layer (root-mean-square about 0.003 at C5 and 0.000 at F6 on training digits), so
nearly every h_kk is far below mu and about 96% of the first-pass steps sit at the cap
eta/mu = 0.025, where the paper reports steps between about 7e-5 and 0.016 (p. 10), none at
the cap.  At that start the loss's curvature does not change h_kk (every penalty is about
84, far above j), and neither does j, S2/S4 as averages, averaging h_kk over a shared
weight's connections, standardising the input, clipping every step into the paper's range
or re-estimating h_kk every 1,000 patterns: each of these runs diverges too.  With
U(+-2.4/sqrt(F_i)) the activations start near 1, no step is at the cap, and pass 1 learns;
in pass 2 the steps grow again (the median step is about 40 times that of pass 1; f'(a)^2
falls as sums move away from 0, and eq. 9's curvature falls as the network grows confident)
and the per-pattern rule at the paper's eta loses ground: that run ends 20 passes at 6.6%
test error (``data/results/lenet5_paper_sqrt_init_training_log.json``).  With the "fast"
recipe's smaller steps (its eta / 16 per pattern: ``--recipe fast --batch-size 1
--rate-scale 0.125 --first-pass-scale 0.25``), one update per pattern from U(+-2.4/F_i)
reaches 0.92% test error and 0.29% training error on the fly after 20 passes
(``data/results/lenet5_fast_per_digit_training_log.json``).  This implementation's h_kk thus
differs from the paper's in a way not yet identified, and the paper's eta is too large for it.

The shipped weights (``load_trained``; ``python -m scripts.train_lenet5``, seed 0, 20 passes
without distortions) reach 0.81% test error and 0.345% training error after the last pass
(paper: 0.95%, and 0.35% training error measured during the pass, Fig. 5: not the same
quantity); the test error is at or below 1.0% from pass 8 on.  The run took about 4 minutes
of CPU time on one core (the log does not record the machine).
"""
from __future__ import annotations

import json
import math
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

#: Training recipes of ``fit``, by name (see the module docstring):
#:
#: * ``"fast"``: mini-batches of 16, the paper's eta schedule x2 (x0.5 in pass 1), h_kk
#:   seeded with eq. 8's curvature only;
#: * ``"paper"``: the paper's procedure (Appendix C, p. 10): one update per pattern, the
#:   schedule as printed, h_kk with the curvature of the loss that is trained.
#:
#: Both: eq. 9 with ``j``, mu = 0.02, h_kk re-estimated on 500 patterns before every pass,
#: one constant random order of presentation, the fan-in initialisation of Appendix A.
RECIPES = {
    "fast": {"batch_size": 16, "rate_scale": 2.0, "first_pass_scale": 0.25, "loss": "map",
             "j": MAP_J, "hessian": "mle", "init": "fan_in"},
    "paper": {"batch_size": 1, "rate_scale": 1.0, "first_pass_scale": 1.0, "loss": "map",
              "j": MAP_J, "hessian": "loss", "init": "fan_in"},
    "paper_sqrt_init": {"batch_size": 1, "rate_scale": 1.0, "first_pass_scale": 1.0,
                        "loss": "map", "j": MAP_J, "hessian": "loss", "init": "sqrt_fan_in"},
}
#: The recipe of the shipped weights.
RECIPE = RECIPES["fast"]

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


#: Initialisation rules of ``init_params``: weights ~ U(-2.4/d, 2.4/d) with d = F_i (the
#: fan-in, Appendix A) or d = sqrt(F_i).
INIT_RULES = ("fan_in", "sqrt_fan_in")


def init_params(rng: np.random.Generator | int | None = None, dtype=np.float32,
                rule: str = "fan_in") -> dict:
    """Fan-in initialisation (Appendix A): weights ~ U(-2.4/F_i, 2.4/F_i), biases 0.

    F_i is the number of inputs of the unit: 25 for C1, 75/100/150 for C3 maps with 3/4/6
    inputs, 4 for the subsampling coefficients, 400 for C5, 120 for F6.  The paper does not
    say how biases start; they start at 0.  Shapes: see ``PARAM_SHAPES``.

    ``rule="sqrt_fan_in"`` divides by sqrt(F_i) instead: the weighted sums of independent
    inputs then have the same spread in every layer, the aim the paper states for its rule
    (Appendix A); with 2.4/F_i they shrink from layer to layer (``scripts/
    investigate_divergence.py`` measures both).  Same random numbers, only scaled.
    """
    if rule not in INIT_RULES:
        raise ValueError(f"rule must be one of {INIT_RULES}, got {rule!r}")
    rng = np.random.default_rng(rng)
    power = 1.0 if rule == "fan_in" else 0.5

    def uniform(shape, fan_in):
        return rng.uniform(-2.4, 2.4, size=shape) / np.power(fan_in, power)

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


def loss_curvature(f6: np.ndarray, penalties: np.ndarray, loss: str = "map",
                   j: float = MAP_J) -> np.ndarray:
    """Diagonal second derivatives d^2E/dx_j^2 of one pattern's loss w.r.t. the RBF inputs.

    f6: ``(N, 84)`` F6 outputs x (units of f(a)); penalties ``(N, 10)``.  Returns ``(N, 84)``.
    The loss is taken as a function of x, through the fixed RBF: this is the curvature the
    Gauss-Newton approximation keeps ("ignores the non-linearity of the estimated function
    ... but not that of the loss function", Appendix C p. 42).

    * eq. 8 (``"mle"``): E = y_D = sum_j (x_j - c_Dj)^2, so d^2E/dx_j^2 = 2;
    * eq. 9 (``"map"``): with q_i = e^{-y_i} / (e^{-j} + sum_k e^{-y_k}) and q_0 = 1 - sum q_i
      the weight of the constant e^{-j}, d^2E/dx_j^2 = 2 q_0 + 4 (sum_i q_i d_ij^2 -
      (sum_i q_i d_ij)^2), d_ij = x_j - c_ij: the term of the correct class (2) minus that of
      the log-sum-exp (2 sum_i q_i, for the "rubbish" class included), plus a variance of
      the distances to the ten centres, which is >= 0.  It does not depend on the label.
      Where every penalty is well above j (an untrained network: about 84 each), q ~ 0
      and the curvature is 2, as for eq. 8; it differs once the network discriminates.
    """
    f6, penalties = np.asarray(f6, np.float64), np.asarray(penalties, np.float64)
    if loss == "mle":
        return np.full(f6.shape, 2.0)
    if loss != "map":
        raise ValueError(f"unknown loss {loss!r}")
    shift = np.minimum(penalties.min(axis=1), j)[:, None]
    e = np.exp(shift - penalties)
    z = e.sum(axis=1, keepdims=True) + np.exp(shift - j)
    q = e / z                                                        # (N, 10)
    d = f6[:, None, :] - rbf_centres(np.float64)[None]               # (N, 10, 84)
    m1 = np.einsum("ni,nij->nj", q, d)
    m2 = np.einsum("ni,nij->nj", q, d * d)
    return 2.0 * (1.0 - q.sum(axis=1, keepdims=True)) + 4.0 * (m2 - m1 * m1)


#: How the seed of the second-order back-propagation is chosen (``estimate_hessian``):
#: ``"mle"`` the constant 2 of eq. 8's term (the fast recipe), ``"loss"`` the curvature of
#: the loss that is trained (``loss_curvature``; the paper's Gauss-Newton approximation).
HESSIAN_SEEDS = ("mle", "loss")


def estimate_hessian(params: dict, x: np.ndarray, seed: str = "mle", loss: str = "map",
                     j: float = MAP_J) -> dict:
    """Gauss-Newton diagonal Hessian h_kk per pattern, averaged over x ``(N, 1, 32, 32)``.

    Second derivatives are back-propagated from the output with f'(a)^2, squared weights and
    squared inputs, summed over the connections sharing a weight (Appendix C).  The seed at
    the RBF input x (the F6 outputs):

    * ``seed="mle"`` (default; the fast recipe and chapter 9's exercise): the curvature of
      eq. 8's term, d^2 y_D / dx_j^2 = 2, whatever loss is trained;
    * ``seed="loss"``: the curvature of the trained loss (``loss``, ``j``) at each pattern,
      ``loss_curvature``, as the paper's estimate keeps the loss function's non-linearity
      (Appendix C, p. 42).  For eq. 8 both are the same.
    """
    y, cache = forward(x, params)
    ws = _workspace_of(cache)
    if seed == "mle":
        s = np.full((84, len(x)), 2.0, dtype=ws.dtype)
    elif seed == "loss":
        s = loss_curvature(A_SQUASH * ws.t6.T, y, loss, j).T.astype(ws.dtype)
    else:
        raise ValueError(f"seed must be one of {HESSIAN_SEEDS}, got {seed!r}")
    h = ws.backward(np.ascontiguousarray(s), square=True)
    return {k: v / len(x) for k, v in h.items()}


#: The layers' parameters, for per-layer statistics.
LAYER_PARAMS = {"C1": ("C1_w", "C1_b"), "S2": ("S2_coeff", "S2_bias"),
                "C3": ("C3_w", "C3_b"), "S4": ("S4_coeff", "S4_bias"),
                "C5": ("C5_w", "C5_b"), "F6": ("F6_w", "F6_b")}


def _real(name: str, a: np.ndarray) -> np.ndarray:
    """The values of a parameter array that are real parameters (drops absent C3 links)."""
    a = np.asarray(a)
    if name == "C3_w":
        return a[np.broadcast_to(C3_TABLE.T[:, :, None, None], a.shape)]
    return a.reshape(-1)


def rate_stats(steps: dict) -> dict:
    """Per layer (and ``"all"``): min, median and max of the effective step sizes
    eta / (mu + h_kk) over the layer's 60,000 real parameters (absent C3 links left out)."""
    out, everything = {}, []
    for layer, names in LAYER_PARAMS.items():
        v = np.concatenate([_real(n, steps[n]).astype(np.float64) for n in names])
        everything.append(v)
        out[layer] = [float(v.min()), float(np.median(v)), float(v.max())]
    v = np.concatenate(everything)
    out["all"] = [float(v.min()), float(np.median(v)), float(v.max())]
    return out


def sdlm_steps(hessian: dict, eta: float, mu: float = MU) -> dict:
    """Per-parameter step sizes eta / (mu + h_kk) (zero for absent C3 connections)."""
    return {k: (eta / (mu + h)).astype(h.dtype) for k, h in hessian.items()}


def sdlm_update(params: dict, grads: dict, steps: dict) -> None:
    """In place: ``params[k] -= steps[k] * grads[k]`` for every parameter (grads are consumed)."""
    for k, g in grads.items():
        g *= steps[k]
        params[k] -= g


# ------------------------------------------------------------- one pattern at a time


def _pool_matrix(rows: int, width: int, cols_in: int, pad_to: int | None = None) -> np.ndarray:
    """0/1 matrix summing the 2x2 blocks of maps stored row by row, ``width`` values per
    stored row of which the first ``cols_in`` are real (the rest: see ``PatternTrainer``).

    Returns ``(2 * width, cols_in // 2)`` for ``pad_to=None`` (applied to pairs of stored rows),
    else ``(pad_to, (rows // 2) * (cols_in // 2))`` applied to a whole stored map of ``rows``
    rows padded to ``pad_to`` values."""
    if pad_to is None:
        p = np.zeros((2 * width, cols_in // 2))
        for r in range(2):
            for x in range(cols_in):
                p[r * width + x, x // 2] = 1
        return p
    p = np.zeros((pad_to, (rows // 2) * (cols_in // 2)))
    for y in range(rows):
        for x in range(cols_in):
            p[y * width + x, (y // 2) * (cols_in // 2) + x // 2] = 1
    return p


def _pack_into(views: dict, params: dict, s: float, sa: float) -> None:
    """Write params (keyed like ``PARAM_SHAPES``) into the packed views of a
    ``PatternTrainer`` (M1, M3, M5, M6, c2, b2, c4, b4), times ``s`` (biases, C1) or ``sa``
    (weights fed by a squashed layer); C3's columns ordered (ky, kx, map), Table I applied."""
    views["M1"][:, :25] = s * params["C1_w"].reshape(6, 25)
    views["M1"][:, 25] = s * params["C1_b"]
    w3 = params["C3_w"] * C3_TABLE.T[:, :, None, None]
    views["M3"][:, :150] = sa * w3.transpose(0, 2, 3, 1).reshape(16, 150)
    views["M3"][:, 150] = s * params["C3_b"]
    views["M5"][:, :400] = sa * params["C5_w"].reshape(120, 400)
    views["M5"][:, 400] = s * params["C5_b"]
    views["M6"][:, :120] = sa * params["F6_w"].T
    views["M6"][:, 120] = s * params["F6_b"]
    views["c2"][:, 0], views["b2"][:, 0] = sa * params["S2_coeff"], s * params["S2_bias"]
    views["c4"][:, 0], views["b4"][:, 0] = sa * params["S4_coeff"], s * params["S4_bias"]


class PatternTrainer:
    """SDLM one pattern at a time (the paper's rule), fast: about 100 NumPy calls per update.

    The parameters live *packed* in one flat vector ``theta`` (the folded matrices of
    ``Workspace``: ``S A W`` and ``S b``, C3 with its Table-I mask), their gradients in one
    flat vector of the same layout, and the per-parameter steps too (in packed units:
    a step ``s`` on W is ``scale^2 s`` on ``M = scale W``), so that an update is two NumPy
    calls.  Every map is stored flat with its rows at a fixed stride (32 for the input and
    C1, 14 for S2 and C3), so that a 5x5 window is a fixed *offset* into the flat map: the
    im2col matrix is one copy of 25 (C1) or 150 (C3) contiguous rows, and col2im (dE/dS2)
    is 25 additions of contiguous vectors.  The columns of C1 and C3 that fall past a row's
    end (x >= 28 resp. 10) are computed and ignored: the 2x2 sums (one small matrix product
    each) never read them and their gradients are zero.  The arithmetic is that of
    ``Workspace(1)`` in another order (``tests/test_model.py`` compares the two).

    ``step(i)`` trains on pattern i of the set given to ``__init__`` and returns
    ``(loss, wrong)``, ``wrong`` telling whether the pattern was misclassified *before* the
    update (the training error "on the fly" of Fig. 5).
    """

    def __init__(self, params: dict, x: np.ndarray, labels: np.ndarray, j: float = MAP_J,
                 loss: str = "map", dtype=None):
        dtype = np.dtype(dtype or params["C1_w"].dtype)
        self.dtype, self.j, self.loss = dtype, float(j), loss
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}")
        self.x = np.ascontiguousarray(np.asarray(x, dtype).reshape(len(x), 1024))
        self.labels = np.asarray(labels).astype(np.int64).tolist()
        t = dtype.type
        self.S, self.SA, self.A = t(S_SQUASH), t(_SA), t(A_SQUASH)

        # packed layout: name -> (shape); theta, gradient and steps share it
        shapes = {"M1": (6, 26), "M3": (16, 151), "M5": (120, 401), "M6": (84, 121),
                  "c2": (6, 1), "b2": (6, 1), "c4": (16, 1), "b4": (16, 1)}
        size = sum(int(np.prod(s)) for s in shapes.values())
        self.theta, self.grad = np.zeros(size, dtype), np.zeros(size, dtype)
        self.steps = np.zeros(size, dtype)
        self.th, self.gr, self.st, o = {}, {}, {}, 0
        for name, shape in shapes.items():
            n = int(np.prod(shape))
            for flat, views in ((self.theta, self.th), (self.grad, self.gr),
                                (self.steps, self.st)):
                views[name] = flat[o:o + n].reshape(shape)
            o += n
        # dM/dW of every packed entry, in the packed layout (0 for absent C3 connections)
        self.scale = np.zeros(size, dtype)
        sc, o = {}, 0
        for name, shape in shapes.items():
            n = int(np.prod(shape))
            sc[name] = self.scale[o:o + n].reshape(shape)
            o += n
        mask = C3_TABLE.T.astype(np.float64)                                     # (16, 6)
        sc["M1"][:, :25], sc["M1"][:, 25] = S_SQUASH, S_SQUASH
        sc["M3"][:, :150] = (_SA * np.broadcast_to(mask[:, None, :], (16, 25, 6))).reshape(16, 150)
        sc["M3"][:, 150] = S_SQUASH
        sc["M5"][:, :400], sc["M5"][:, 400] = _SA, S_SQUASH
        sc["M6"][:, :120], sc["M6"][:, 120] = _SA, S_SQUASH
        sc["c2"][:], sc["b2"][:], sc["c4"][:], sc["b4"][:] = _SA, S_SQUASH, _SA, S_SQUASH
        self.set_params(params)

        def e(*shape):
            return np.zeros(shape, dtype)

        it = dtype.itemsize
        # C1: the input flat, rows of 32 (+ 4 values read only by the ignored columns)
        self.xin = e(1024 + 8)
        self.xin_img = self.xin[:1024]
        self.cols1 = e(26, 896)
        self.cols1[25] = 1
        self.cols1_dst = self.cols1[:25].reshape(5, 5, 896)
        self.cols1_src = as_strided(self.xin, (5, 5, 896), (32 * it, it, it), writeable=False)
        self.t1 = e(6, 896)                                   # 6 maps of 28 rows of 32
        self.d1 = e(6, 896)
        self.P2 = _pool_matrix(28, 32, 28).astype(dtype)      # (64, 14): pairs of rows
        self.P2T = self.P2.T.copy()
        self.p2 = e(84, 14)                                   # S2 sums, (6, 14*14)
        self.p2_maps = self.p2.reshape(6, 196)
        # S2 maps flat, rows of 14, each map padded to 200 (what the C3 windows read)
        self.t2 = e(6, 200)
        self.t2_maps = self.t2[:, :196]
        self.d2 = e(1200)
        self.cols3 = e(151, 140)                              # rows ordered (ky, kx, map)
        self.cols3[150] = 1
        self.cols3_dst = self.cols3[:150].reshape(5, 5, 6, 140)
        self.cols3_src = as_strided(self.t2, (5, 5, 6, 140), (14 * it, it, 200 * it, it),
                                    writeable=False)
        self.t3 = e(16, 200)                                  # C3: rows of 14, padded to 200
        self.t3_out = self.t3[:, :140]
        self.d3 = e(16, 200)
        self.Q4 = _pool_matrix(10, 14, 10, pad_to=200).astype(dtype)   # (200, 25)
        self.Q4T = self.Q4.T.copy()
        self.p4 = e(16, 25)
        self.x5 = e(401)
        self.x5[400] = 1
        self.t4 = self.x5[:400].reshape(16, 25)
        self.x6 = e(121)
        self.x6[120] = 1
        self.t5 = self.x6[:120]
        self.r = e(169)
        self.r[168] = 1
        self.t6, self.t6sq = self.r[:84], self.r[84:168]
        self.y = e(10)
        c = rbf_centres(np.float64)
        self.R = np.concatenate([-2 * A_SQUASH * c, np.full((10, 84), A_SQUASH ** 2),
                                 (c * c).sum(1, keepdims=True)], 1).astype(dtype)
        self.Cneg = (-2 * A_SQUASH * c.T).astype(dtype)                          # (84, 10)
        # backward buffers and views
        self.gy = e(10)
        self.g6, self.u6 = e(84), e(84)
        self.g5, self.u5 = e(120), e(120)
        self.g4, self.u4 = e(400), e(400)
        self.g4_maps = self.g4.reshape(16, 25)
        self.gp4 = e(16, 25)
        self.g3 = e(16, 200)
        self.dc3 = e(150, 200)                               # dE/d(cols3), rows (ky, kx, map)
        self.g2 = e(1200 + 60)
        self.g2_maps = self.g2[:1200].reshape(6, 200)[:, :196]
        offsets = [ky * 14 + kx for ky in range(5) for kx in range(5)]
        self.col2im = [(self.g2[o:o + 1200], self.dc3[6 * k:6 * k + 6].reshape(1200))
                       for k, o in enumerate(offsets)]
        self.gp2 = e(84, 14)
        self.gp2_maps = self.gp2.reshape(6, 196)
        self.g1 = e(6, 896)
        self.g1_pairs = self.g1.reshape(84, 64)
        self.t1_pairs = self.t1.reshape(84, 64)
        th, gr = self.th, self.gr
        self.M6w, self.M5w, self.M3w = th["M6"][:, :120], th["M5"][:, :400], th["M3"][:, :150]
        self.g6_col, self.x6_row = self.g6[:, None], self.x6[None, :]
        self.g5_col, self.x5_row = self.g5[:, None], self.x5[None, :]
        self.g3_used, self.cols3_T = self.g3[:, :140], self.cols3.T
        self.cols1_T = self.cols1.T
        self.gc4, self.gb4 = gr["c4"][:, 0], gr["b4"][:, 0]
        self.gc2, self.gb2 = gr["c2"][:, 0], gr["b2"][:, 0]

    # ------------------------------------------------------------------ parameters

    def set_params(self, params: dict) -> None:
        """Pack params (dict keyed like ``PARAM_SHAPES``) into ``theta``."""
        _pack_into(self.th, params, S_SQUASH, _SA)

    def _unpack(self, flat: np.ndarray, inverse: bool) -> dict:
        """A packed vector in parameter units: flat / scale (parameters; 0 where scale is 0)
        or flat * scale (gradients)."""
        scale = self.scale.astype(np.float64)
        if inverse:
            scale = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
        v, o = {}, 0
        for name, view in self.th.items():
            n = view.size
            v[name] = (flat[o:o + n].astype(np.float64) * scale[o:o + n]).reshape(view.shape)
            o += n
        w3 = v["M3"][:, :150].reshape(16, 5, 5, 6).transpose(0, 3, 1, 2)
        out = {"C1_w": v["M1"][:, :25].reshape(6, 1, 5, 5), "C1_b": v["M1"][:, 25],
               "S2_coeff": v["c2"][:, 0], "S2_bias": v["b2"][:, 0],
               "C3_w": w3, "C3_b": v["M3"][:, 150],
               "S4_coeff": v["c4"][:, 0], "S4_bias": v["b4"][:, 0],
               "C5_w": v["M5"][:, :400].reshape(120, 16, 5, 5), "C5_b": v["M5"][:, 400],
               "F6_w": v["M6"][:, :120].T, "F6_b": v["M6"][:, 120]}
        return {k: np.ascontiguousarray(a).astype(self.dtype) for k, a in out.items()}

    def params(self) -> dict:
        """The current parameters, a new dict keyed like ``PARAM_SHAPES``."""
        return self._unpack(self.theta, True)

    def gradients(self) -> dict:
        """dE/dW of the latest ``step``/``gradient`` call, in parameter units."""
        return self._unpack(self.grad, False)

    def set_steps(self, steps: dict) -> None:
        """Per-parameter step sizes eta / (mu + h_kk) (dict keyed like the params): a step s
        on W is a step scale^2 s on the packed M = scale W (0 for absent C3 connections)."""
        _pack_into(self.st, steps, S_SQUASH ** 2, _SA ** 2)

    # ------------------------------------------------------------- forward/backward

    def forward(self, i: int):
        """Penalties of pattern i (a buffer, ``(10,)``)."""
        np.copyto(self.xin_img, self.x[i])
        np.copyto(self.cols1_dst, self.cols1_src)                           # im2col
        np.matmul(self.th["M1"], self.cols1, out=self.t1)                   # C1
        np.tanh(self.t1, out=self.t1)
        np.matmul(self.t1_pairs, self.P2, out=self.p2)                      # S2
        np.multiply(self.p2_maps, self.th["c2"], out=self.t2_maps)
        np.add(self.t2_maps, self.th["b2"], out=self.t2_maps)
        np.tanh(self.t2, out=self.t2)
        np.copyto(self.cols3_dst, self.cols3_src)                           # im2col
        np.matmul(self.th["M3"], self.cols3, out=self.t3_out)               # C3
        np.tanh(self.t3, out=self.t3)
        np.matmul(self.t3, self.Q4, out=self.p4)                            # S4
        np.multiply(self.p4, self.th["c4"], out=self.t4)
        np.add(self.t4, self.th["b4"], out=self.t4)
        np.tanh(self.t4, out=self.t4)
        np.matmul(self.th["M5"], self.x5, out=self.t5)                      # C5
        np.tanh(self.t5, out=self.t5)
        np.matmul(self.th["M6"], self.x6, out=self.t6)                      # F6
        np.tanh(self.t6, out=self.t6)
        np.multiply(self.t6, self.t6, out=self.t6sq)
        np.matmul(self.R, self.r, out=self.y)                               # RBF
        return self.y

    def loss_and_gradient(self, i: int):
        """(loss, wrong, dE/dy as a list) of pattern i; eq. 9 (or 8) on Python floats."""
        y = self.forward(i).tolist()
        label = self.labels[i]
        best = min(y)
        wrong = y.index(best) != label
        if self.loss == "mle":
            gy = [0.0] * 10
            gy[label] = 1.0
            return y[label], wrong, gy
        shift = min(best, self.j)
        es = [math.exp(shift - v) for v in y]
        z = sum(es) + math.exp(shift - self.j)
        loss = y[label] - shift + math.log(z)
        gy = [-v / z for v in es]
        gy[label] += 1.0
        return loss, wrong, gy

    def backward(self, gy) -> None:
        """Gradient of the latest forward pass into ``grad`` (packed), from gy = dE/dy."""
        th, gr = self.th, self.gr
        self.gy[:] = gy
        total = sum(gy) if isinstance(gy, list) else float(np.sum(gy))
        g6, u6 = self.g6, self.u6                       # dE/dt6 = 2A^2 t sum(gy) - 2A C^T gy
        np.matmul(self.Cneg, self.gy, out=g6)
        np.multiply(self.t6, 2 * A_SQUASH ** 2 * total, out=u6)
        np.add(g6, u6, out=g6)
        np.subtract(1, self.t6sq, out=u6)
        np.multiply(g6, u6, out=g6)                                         # F6
        np.multiply(self.g6_col, self.x6_row, out=gr["M6"])
        g5, u5 = self.g5, self.u5
        np.matmul(g6, self.M6w, out=g5)
        np.multiply(self.t5, self.t5, out=u5)
        np.subtract(1, u5, out=u5)
        np.multiply(g5, u5, out=g5)                                         # C5
        np.multiply(self.g5_col, self.x5_row, out=gr["M5"])
        g4, u4 = self.g4, self.u4
        np.matmul(g5, self.M5w, out=g4)
        np.multiply(self.x5[:400], self.x5[:400], out=u4)
        np.subtract(1, u4, out=u4)
        np.multiply(g4, u4, out=g4)                                         # S4
        np.einsum("ij,ij->i", self.g4_maps, self.p4, out=self.gc4)
        np.add.reduce(self.g4_maps, axis=1, out=self.gb4)
        np.multiply(self.g4_maps, th["c4"], out=self.gp4)
        g3 = self.g3
        np.matmul(self.gp4, self.Q4T, out=g3)
        np.multiply(self.t3, self.t3, out=self.d3)
        np.subtract(1, self.d3, out=self.d3)
        np.multiply(g3, self.d3, out=g3)                                    # C3
        np.matmul(self.g3_used, self.cols3_T, out=gr["M3"])
        np.matmul(self.M3w.T, g3, out=self.dc3)
        g2 = self.g2
        g2.fill(0)
        for dst, src in self.col2im:                                        # col2im
            np.add(dst, src, out=dst)
        t2 = self.t2.reshape(1200)
        np.multiply(t2, t2, out=self.d2)
        np.subtract(1, self.d2, out=self.d2)
        np.multiply(g2[:1200], self.d2, out=g2[:1200])                      # S2
        np.einsum("ij,ij->i", self.g2_maps, self.p2_maps, out=self.gc2)
        np.add.reduce(self.g2_maps, axis=1, out=self.gb2)
        np.multiply(self.g2_maps, th["c2"], out=self.gp2_maps)
        np.matmul(self.gp2, self.P2T, out=self.g1_pairs)
        np.multiply(self.t1, self.t1, out=self.d1)
        np.subtract(1, self.d1, out=self.d1)
        np.multiply(self.g1, self.d1, out=self.g1)                          # C1
        np.matmul(self.g1, self.cols1_T, out=gr["M1"])

    def step(self, i: int):
        """One SDLM update on pattern i; returns (loss, wrong before the update)."""
        loss, wrong, gy = self.loss_and_gradient(i)
        self.backward(gy)
        np.multiply(self.grad, self.steps, out=self.grad)
        np.subtract(self.theta, self.grad, out=self.theta)
        return loss, wrong


#: A block of patterns whose mean loss exceeds this has diverged: 84 is every penalty of a
#: network whose F6 outputs are all 0 (|c_i|^2 = 84), and eq. 9's loss is below y_D.
DIVERGED_LOSS = 84.0


def run_pass(params: dict, x: np.ndarray, labels: np.ndarray, eta: float,
             rng: np.random.Generator, batch_size: int = 1, loss: str = "map",
             j: float = MAP_J, mu: float = MU, order: np.ndarray | None = None,
             hessian: str = "mle", trainer: PatternTrainer | None = None,
             block: int = 1000) -> dict:
    """One pass of SDLM over the training set, in place; returns what happened.

    x: ``(P, 1, 32, 32)``, labels ``(P,)``.  Before the pass, h_kk is re-estimated on
    ``HESSIAN_PATTERNS`` patterns drawn with ``rng`` (``estimate_hessian`` with
    ``seed=hessian``); then every mini-batch of ``batch_size`` patterns moves each parameter
    by ``eta / (mu + h_kk)`` times the mean gradient of the batch.  ``batch_size=1`` is the
    paper's rule, run by a ``PatternTrainer`` (``trainer``: one to reuse, holding the current
    parameters; it writes them back into ``params`` at the end).  ``order``: order of
    presentation (the paper keeps one random order for all passes); default a fresh
    permutation from ``rng``.

    Returns a dict: ``loss`` (mean over the pass), ``on_the_fly_error`` (fraction of the
    patterns misclassified when presented, before their update: Fig. 5's training error),
    ``block_errors`` (the same per ``block`` patterns), ``rates`` (``rate_stats`` of the
    steps), ``diverged`` (the mean loss of a block exceeded ``DIVERGED_LOSS`` or was NaN:
    the pass stopped there) and
    ``patterns`` (how many were presented).
    """
    sample = rng.choice(len(x), size=min(HESSIAN_PATTERNS, len(x)), replace=False)
    steps = sdlm_steps(estimate_hessian(params, x[sample], seed=hessian, loss=loss, j=j),
                       eta, mu)
    order = rng.permutation(len(x)) if order is None else np.asarray(order)
    result = {"rates": rate_stats(steps), "block_errors": [], "diverged": False}
    total, wrong_total, done = 0.0, 0, 0
    if batch_size == 1:
        if trainer is None:
            trainer = PatternTrainer(params, x, labels, j=j, loss=loss)
        trainer.set_steps(steps)
        step = trainer.step
        idx = order.tolist()
        for start in range(0, len(idx), block):
            block_loss, block_wrong = 0.0, 0
            for i in idx[start:start + block]:
                value, wrong = step(i)
                block_loss += value
                block_wrong += wrong
            n = min(block, len(idx) - start)
            total, wrong_total, done = total + block_loss, wrong_total + block_wrong, done + n
            result["block_errors"].append(block_wrong / n)
            if not block_loss / n <= DIVERGED_LOSS:           # also NaN
                result["diverged"] = True
                break
        new = trainer.params()
        for k in params:
            params[k][...] = new[k]
    else:
        loss_fn = LOSSES[loss]
        kwargs = {"j": j} if loss == "map" else {}
        workspaces: dict = {}
        block_loss, block_wrong, block_n = 0.0, 0, 0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            ws = workspaces.get(len(idx)) or workspaces.setdefault(
                len(idx), Workspace(len(idx), params["C1_w"].dtype))
            y, cache = forward(x[idx], params, ws)
            value, dy = loss_fn(y, labels[idx], **kwargs)
            block_wrong += int((predict(y) != labels[idx]).sum())
            sdlm_update(params, backward(dy, cache), steps)
            block_loss += value * len(idx)
            block_n += len(idx)
            if block_n >= block or i + batch_size >= len(order):
                total, wrong_total, done = total + block_loss, wrong_total + block_wrong, \
                    done + block_n
                result["block_errors"].append(block_wrong / block_n)
                if not block_loss / block_n <= DIVERGED_LOSS:
                    result["diverged"] = True
                    break
                block_loss, block_wrong, block_n = 0.0, 0, 0
    result.update(loss=total / max(done, 1), on_the_fly_error=wrong_total / max(done, 1),
                  patterns=done)
    return result


def train_pass(params: dict, x: np.ndarray, labels: np.ndarray, eta: float,
               rng: np.random.Generator, batch_size: int = 1, loss: str = "map",
               j: float = MAP_J, mu: float = MU, order: np.ndarray | None = None,
               hessian: str = "mle") -> float:
    """One pass of SDLM over the training set, in place; returns the mean training loss
    (``run_pass`` returns more)."""
    return run_pass(params, x, labels, eta, rng, batch_size=batch_size, loss=loss, j=j,
                    mu=mu, order=order, hessian=hessian)["loss"]


def fit(params: dict, x: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
        passes: int = 20, recipe: str = "fast", **overrides):
    """Train in place, pass by pass, with the settings of ``RECIPES[recipe]`` (keys of the
    recipe passed as keyword arguments override them); a generator yielding, after every
    pass, the dict of ``run_pass`` plus ``pass`` and ``eta``.

    eta of pass p = ``learning_rate(p) * rate_scale`` (times ``first_pass_scale`` in pass 1);
    the patterns are presented in one random order (drawn from ``rng`` here), the same for
    every pass.  A pass that diverges (``run_pass``) ends the run.  The recipe's ``init``
    is for the caller (``init_params(rng, rule=...)``); ``fit`` starts from ``params``.
    """
    settings = dict(RECIPES[recipe])
    unknown = set(overrides) - set(settings)
    if unknown:
        raise TypeError(f"fit: unknown settings {sorted(unknown)}")
    settings.update(overrides)
    order = rng.permutation(len(x))
    trainer = (PatternTrainer(params, x, labels, j=settings["j"], loss=settings["loss"])
               if settings["batch_size"] == 1 else None)
    for p in range(1, passes + 1):
        eta = (learning_rate(p) * settings["rate_scale"]
               * (settings["first_pass_scale"] if p == 1 else 1.0))
        result = run_pass(params, x, labels, eta, rng, batch_size=settings["batch_size"],
                          loss=settings["loss"], j=settings["j"], order=order,
                          hessian=settings["hessian"], trainer=trainer)
        yield dict(result, **{"pass": p, "eta": eta})
        if result["diverged"]:
            return

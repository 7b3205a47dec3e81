"""What the hidden checks of every chapter share."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array

RNG_SEED = 1998


class Partial(AssertionError):
    """Raised by a check whose parts passed in part: ``fraction`` of the cell's points are
    earned, and the message says which parts failed."""

    def __init__(self, fraction: float, message: str):
        super().__init__(message)
        self.fraction = max(0.0, min(1.0, float(fraction)))


def rng() -> np.random.Generator:
    """The checks' random numbers: the same for every student."""
    return np.random.default_rng(RNG_SEED)


def matches(got, expected, tol=1e-6) -> bool:
    """True when ``got`` is an array of ``expected``'s shape and values (no exception)."""
    try:
        check_array("", got, expected, rtol=tol, atol=tol)
    except AssertionError:
        return False
    return True


def numerical_gradient(f, x, dout, eps=1e-6):
    """d(sum(f(x) * dout))/dx by central differences; x: any shape, float64 (restored after)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = np.sum(f(x) * dout)
        flat[i] = old - eps
        minus = np.sum(f(x) * dout)
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def unpack_gradients(what: str, result, names: tuple[str, ...], dout, dout_before):
    """The arrays a backward pass returned, named by ``names`` (e.g. ``("dx", "dw", "db")``);
    fail with a message if it returned something else or changed its argument ``dout``."""
    if not (isinstance(result, tuple) and len(result) == len(names)):
        raise AssertionError(f"{what}: expected a tuple ({', '.join(names)}), got "
                             f"{type(result).__name__}")
    if not np.array_equal(dout, dout_before):
        raise AssertionError(f"{what}: your function changed its argument dout")
    return result

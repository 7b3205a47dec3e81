"""What the hidden checks of every chapter share."""
from __future__ import annotations

import contextlib

import numpy as np

from lenet5.testing import check_array

RNG_SEED = 1998


class Partial(AssertionError):
    """Raised by a check whose parts passed in part: ``fraction`` of the cell's points are
    earned, and the message says which parts failed."""

    def __init__(self, fraction: float, message: str):
        super().__init__(message)
        self.fraction = max(0.0, min(1.0, float(fraction)))


class Parts:
    """The sub-checks of one hidden cell, each worth a share of its points.

    ::

        parts = Parts()
        with parts("well-formed files", weight=2):
            ...  # asserts; a failure here costs this part only
        with parts("malformed files"):
            ...
        parts.verdict()  # all passed: nothing; some: Partial; none: AssertionError

    A part fails on an ``AssertionError`` or on an error the student's code raised (the
    relay marks it ``raised_by``); any other error is the check's own and propagates. The
    message names the parts that passed and, for each failed part, why.
    """

    def __init__(self):
        self.passed: list[tuple[str, float]] = []
        self.failed: list[tuple[str, float, str]] = []

    @contextlib.contextmanager
    def __call__(self, name: str, weight: float = 1.0):
        try:
            yield
        except Exception as error:  # noqa: BLE001 - sorted below
            raised_by = getattr(error, "raised_by", None)
            if not (isinstance(error, AssertionError) or raised_by):
                raise
            text = str(error).removeprefix(f"{raised_by}: ")
            reason = text if isinstance(error, AssertionError) else \
                f"your code raised {raised_by}: {text}"
            self.failed.append((name, weight, reason or "a check failed"))
        else:
            self.passed.append((name, weight))

    def verdict(self) -> None:
        """Raise what the parts earned: nothing if all passed, else ``Partial`` (some) or
        ``AssertionError`` (none), with a message a student can act on."""
        if not self.failed:
            return
        total = sum(w for _, w in self.passed) + sum(w for _, w, _ in self.failed)
        earned = sum(w for _, w in self.passed) / total
        done = len(self.passed)
        lines = [f"{done} of {done + len(self.failed)} parts passed."]
        lines += [f"Passed: {name}." for name, _ in self.passed]
        lines += [f"Failed: {name}: {reason}" for name, _, reason in self.failed]
        message = "\n".join(lines)
        if earned > 0:
            raise Partial(earned, message)
        raise AssertionError(message)


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


_INTEGER_TYPES = frozenset({int} | {np.dtype(c).type for c in "bBhHiIlLqQ"})


def is_int(value) -> bool:
    """A Python or NumPy integer of exactly that type (not a bool, not a subclass)."""
    return type(value) in _INTEGER_TYPES


def pair(result, what: str, names: str = "(out, cache)"):
    """``result`` if it is a pair (a tuple of two), else fail saying what was expected."""
    if not isinstance(result, tuple) or len(result) != 2:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise AssertionError(f"{what}: expected a pair {names}, got {got}")
    return result


def count_pair(result, call: str) -> tuple[int, int]:
    """A counting function's (parameters, connections) as two ints, or fail saying why."""
    pair(result, call, "(parameters, connections)")
    if not all(is_int(v) for v in result):
        raise AssertionError(f"{call}: expected two integers, got "
                             f"({type(result[0]).__name__}, {type(result[1]).__name__})")
    return int(result[0]), int(result[1])


def slip(value, expected, known, default):
    """The message of the first known wrong value that ``value`` equals, else ``default``."""
    if is_int(value):
        for wrong, message in known:
            if wrong != expected and int(value) == wrong:
                return message
    return default


class _Unusable(Exception):
    """The student's forward pass gives nothing to differentiate (it raised, or its output
    does not have dout's shape)."""


def agrees_with_gradient(forward, args, index, grad, dout, trials=3, eps=1e-4) -> bool:
    """True when ``grad`` is the gradient of sum(forward(*args)[0] * dout) with respect to
    ``args[index]``, judged by central differences along ``trials`` random directions.

    This is how a backward pass is judged against the student's *own* forward pass when that
    forward pass is wrong: a backward pass that is exact for it has lost no points of its
    own (a slip costs its points once). ``forward`` returns ``out`` or ``(out, cache)``."""
    target = np.asarray(args[index], dtype=float)
    if type(grad) is not np.ndarray or grad.shape != target.shape:
        return False

    def loss(value):
        moved = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        moved[index] = value
        try:
            out = forward(*moved)
        except Exception as error:  # noqa: BLE001 - only the student's errors
            if getattr(error, "raised_by", None):
                raise _Unusable() from None
            raise
        out = out[0] if isinstance(out, tuple) and len(out) == 2 else out
        if type(out) is not np.ndarray or out.shape != np.shape(dout):
            raise _Unusable()
        return float(np.sum(out * dout))

    gen = np.random.default_rng(RNG_SEED + index)
    moves = False
    try:
        for _ in range(trials):
            v = gen.standard_normal(target.shape)
            numeric = (loss(target + eps * v) - loss(target - eps * v)) / (2 * eps)
            analytic = float(np.sum(grad * v))
            if not abs(numeric - analytic) <= 1e-5 * max(1.0, abs(numeric), abs(analytic)):
                return False
            moves = moves or abs(numeric) > 1e-6
    except _Unusable:
        return False
    return moves  # a forward pass that ignores this argument gives nothing to agree with


OWN_FORWARD = ("; your {forward} is wrong too (see its check), so this was also compared "
               "with the gradient of your {forward} as it is, and does not match it either")

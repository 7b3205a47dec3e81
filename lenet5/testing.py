"""Assertions with messages a student can act on: type first, then shape, then values.

The visible tests in the notebooks and the hidden checks in ``autograder.checks`` both use
these, so a failing exercise always says *what* is wrong ("expected shape (2, 6, 28, 28),
got (2, 6, 24, 24)") rather than only that something is.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["check_array", "check_int", "check_raises"]


def check_array(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 1e-8,
                hint: str | None = None) -> None:
    """Fail unless ``got`` is a NumPy array of ``expected``'s shape and (close) values.

    A single expected value also accepts a Python or NumPy scalar.

    ``hint`` is appended to a value mismatch: the likely misconception, when one is known.
    """
    expected = np.asarray(expected)
    if expected.ndim == 0 and isinstance(got, (numbers.Number, np.generic)):
        got = np.asarray(got)  # a single value may come as a scalar
    if type(got) is not np.ndarray:
        raise AssertionError(f"{name}: expected a NumPy array, got {type(got).__name__}")
    if got.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {got.shape}")
    if not (np.issubdtype(got.dtype, np.number) or got.dtype == np.bool_):
        raise AssertionError(f"{name}: expected numbers, got an array of dtype {got.dtype}")
    if got.size == 0:
        return
    gotf, expf = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    bad = ~(np.abs(gotf - expf) <= atol + rtol * np.abs(expf))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        message = (f"{name}: {int(bad.sum())} of {bad.size} values are wrong; "
                   f"first at index {where}: expected {expf[where]:.6g}, got {gotf[where]:.6g}")
        raise AssertionError(message + (f". {hint}" if hint else ""))


def check_int(name: str, got, expected: int, *, hint: str | None = None) -> None:
    """Fail unless ``got`` is an integer (Python or NumPy) equal to ``expected``."""
    if isinstance(got, bool) or not isinstance(got, numbers.Integral):
        raise AssertionError(f"{name}: expected an integer, got {type(got).__name__} {got!r}")
    if int(got) != expected:
        raise AssertionError(f"{name}: expected {expected:,}, got {int(got):,}"
                             + (f". {hint}" if hint else ""))


def check_raises(name: str, error: type[BaseException], func, *args, **kwargs) -> None:
    """Fail unless ``func(*args, **kwargs)`` raises ``error``; say what happened instead."""
    try:
        func(*args, **kwargs)
    except error:
        return
    except Exception as other:  # noqa: BLE001 - the point is to report what it was
        raise AssertionError(f"{name}: expected {error.__name__}, but it raised "
                             f"{type(other).__name__}: {other}") from None
    raise AssertionError(f"{name}: expected {error.__name__}, but it returned normally")

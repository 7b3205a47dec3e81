"""Assertions with messages a student can act on: type first, then shape, then values.

The visible tests in the notebooks and the hidden checks in ``autograder.checks`` both use
these, so a failing exercise always says *what* is wrong ("expected shape (2, 6, 28, 28),
got (2, 6, 24, 24)") rather than only that something is.
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_array", "check_int", "check_raises"]

# What the checks compute with, taken when this module is imported: a notebook that later
# replaces numpy's functions (np.abs = ...) does not change how its answers are compared.
_ndarray, _number, _bool = np.ndarray, np.number, np.bool_
_asarray, _abs, _argwhere, _issubdtype, _float64 = (np.asarray, np.abs, np.argwhere,
                                                    np.issubdtype, np.float64)
_type, _isinstance, _int, _tuple = type, isinstance, int, tuple
# Answers must be of these exact types: a subclass could redefine ==, int() or __array__.
_INTEGERS = frozenset({int} | {np.dtype(c).type for c in "bBhHiIlLqQ"})
_SCALARS = _INTEGERS | {float, bool} | {np.dtype(c).type for c in "?efdg"}


def check_array(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 1e-8,
                hint: str | None = None) -> None:
    """Fail unless ``got`` is a NumPy array of ``expected``'s shape and (close) values.

    A single expected value also accepts a Python or NumPy scalar.

    ``hint`` is appended to a value mismatch: the likely misconception, when one is known.
    """
    expected = _asarray(expected)
    if expected.ndim == 0 and _type(got) in _SCALARS:
        got = _asarray(got)  # a single value may come as a scalar
    if _type(got) is not _ndarray:
        raise AssertionError(f"{name}: expected a NumPy array, got {_type(got).__name__}")
    if _tuple(got.shape) != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {got.shape}")
    if not (_issubdtype(got.dtype, _number) or got.dtype == _bool):
        raise AssertionError(f"{name}: expected numbers, got an array of dtype {got.dtype}")
    if got.size == 0:
        return
    gotf, expf = _asarray(got, dtype=_float64), _asarray(expected, dtype=_float64)
    bad = ~(_abs(gotf - expf) <= atol + rtol * _abs(expf))
    if bad.any():
        where = _tuple(_int(i) for i in _argwhere(bad)[0])
        message = (f"{name}: {_int(bad.sum())} of {bad.size} values are wrong; "
                   f"first at index {where}: expected {expf[where]:.6g}, got {gotf[where]:.6g}")
        raise AssertionError(message + (f". {hint}" if hint else ""))


def check_int(name: str, got, expected: int, *, hint: str | None = None) -> None:
    """Fail unless ``got`` is an integer (Python or NumPy) equal to ``expected``."""
    if _type(got) not in _INTEGERS:
        shown = repr(got) if _type(got) in _SCALARS else "object"  # no repr of the unknown
        raise AssertionError(f"{name}: expected an integer, got {_type(got).__name__} {shown}")
    if _int(got) != expected:
        raise AssertionError(f"{name}: expected {expected:,}, got {_int(got):,}"
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

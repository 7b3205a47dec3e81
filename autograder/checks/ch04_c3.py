"""Hidden checks of chapter 4: C3's connection table (Table I) and the rule behind it, the
counts of a sparsely connected convolution, and the sparse convolution itself."""
from __future__ import annotations

import numpy as np

from lenet5.testing import check_array, check_int

from .common import (Parts, count_pair, is_int, matches, numerical_gradient, rng,
                     unpack_gradients)

# Table I of the paper, written as the S2 maps that feed each C3 map (the checks' own copy,
# typed from the paper; the students build theirs from the rule).
PAPER_INPUTS = [(0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
                (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5),
                (0, 1, 2, 5), (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5), (0, 1, 2, 3, 4, 5)]


def paper_table() -> np.ndarray:
    table = np.zeros((6, 16), dtype=bool)
    for j, rows in enumerate(PAPER_INPUTS):
        for i in rows:
            table[i, j] = True
    return table


def _maps(column) -> str:
    return "{" + ", ".join(str(i) for i in np.flatnonzero(column)) + "}"


#: Table I's four groups of columns: (name, columns), each worth one point per column.
TABLE_I_GROUPS = [("C3 maps 0-5 (three neighbours)", range(0, 6)),
                  ("C3 maps 6-11 (four neighbours)", range(6, 12)),
                  ("C3 maps 12-14 (two pairs)", range(12, 15)),
                  ("C3 map 15 (all six)", range(15, 16))]


def check_c3_table(table) -> None:
    """C3_TABLE: exactly the paper's Table I, (6, 16) bool, with named misconceptions. A
    table of the right shape and type earns a part per group of columns that is right."""
    paper = paper_table()
    try:
        _diagnose_c3_table(table)
        return
    except AssertionError as error:
        reason = str(error)
    if not (type(table) is np.ndarray and table.shape == (6, 16) and table.dtype == np.bool_):
        raise AssertionError(reason)
    parts, told = Parts(), False
    for group, columns in TABLE_I_GROUPS:
        with parts(group, weight=len(columns)):
            wrong = [j for j in columns if not np.array_equal(table[:, j], paper[:, j])]
            if wrong:
                why = reason if not told else (
                    f"C3 maps {wrong} differ from Table I (e.g. C3 map {wrong[0]} reads S2 "
                    f"maps {_maps(table[:, wrong[0]])})")
                told = True
                raise AssertionError(why)
    parts.verdict()


def _diagnose_c3_table(table) -> None:
    """Return if ``table`` is Table I, else raise with the likely misconception."""
    paper = paper_table()
    name = "C3_TABLE"
    if type(table) is not np.ndarray:
        raise AssertionError(f"{name}: expected a NumPy array, got {type(table).__name__}")
    if table.shape == (16, 6):
        if np.array_equal(table.astype(bool), paper.T):
            raise AssertionError(f"{name}: your table is transposed: shape (16, 6). Rows are the "
                                 f"6 S2 maps, columns the 16 C3 maps: C3_TABLE[i, j] is True "
                                 f"when S2 map i feeds C3 map j")
        raise AssertionError(f"{name}: expected shape (6, 16) (rows: S2 maps, columns: C3 "
                             f"maps), got (16, 6)")
    check_array(name, table, paper, atol=np.inf)  # type and shape
    if table.dtype != np.bool_:
        raise AssertionError(f"{name}: expected dtype bool (True = connected), got "
                             f"{table.dtype}")
    if np.array_equal(~table, paper):
        raise AssertionError(f"{name}: True and False are swapped (inverted symbols): True "
                             f"must mark the pairs that ARE connected")
    if np.array_equal(table, paper):
        return
    if np.array_equal(table[::-1], paper):
        raise AssertionError(f"{name}: the rows are in reverse order: row i is S2 map i")
    if np.array_equal(table[:, ::-1], paper):
        raise AssertionError(f"{name}: the columns are in reverse order: C3 maps 0-5 take "
                             f"three inputs each, map 15 takes all six")
    wrong_cols = [j for j in range(16) if not np.array_equal(table[:, j], paper[:, j])]
    if set(wrong_cols) <= {4, 5, 9, 10, 11}:
        raise AssertionError(f"{name}: C3 maps {wrong_cols} are wrong. The contiguous subsets "
                             f"wrap around: the six S2 maps are arranged in a circle, so after "
                             f"map 5 comes map 0 (e.g. C3 map 4 reads S2 maps 4, 5 and 0)")
    if set(wrong_cols) <= {12, 13, 14}:
        raise AssertionError(f"{name}: the non-contiguous quadruples (C3 maps 12-14) are "
                             f"wrong: yours read {', '.join(_maps(table[:, j]) for j in wrong_cols)}."
                             f" Each of them is two pairs of neighbouring S2 maps with one map "
                             f"left out between the pairs on both sides")
    wrong_rows = [i for i in range(6) if not np.array_equal(table[i], paper[i])]
    if len(wrong_rows) == 1:
        (i,) = wrong_rows
        raise AssertionError(f"{name}: row {i} (the C3 maps fed by S2 map {i}) is wrong: "
                             f"columns {[j for j in range(16) if table[i, j] != paper[i, j]]} "
                             f"differ from Table I")
    sizes, expected_sizes = table.sum(axis=0), paper.sum(axis=0)
    if sorted(sizes) == sorted(expected_sizes) and not np.array_equal(sizes, expected_sizes):
        raise AssertionError(f"{name}: the columns are in the wrong order: their numbers of "
                             f"inputs are {list(sizes)}; Table I has six maps with 3 inputs "
                             f"(columns 0-5), then nine with 4 (columns 6-14), then one with "
                             f"all 6 (column 15)")
    if not np.array_equal(sizes, expected_sizes):
        raise AssertionError(f"{name}: the numbers of inputs per C3 map (column sums) are "
                             f"{list(sizes)}; Table I has 3 for maps 0-5, 4 for maps 6-14 and "
                             f"6 for map 15")
    details = "; ".join(f"C3 map {j} reads S2 maps {_maps(table[:, j])}" for j in wrong_cols[:3])
    raise AssertionError(f"{name}: {len(wrong_cols)} of the 16 columns differ from Table I "
                         f"({details}{'; ...' if len(wrong_cols) > 3 else ''}). Check the "
                         f"rule for each group of C3 maps")


# ------------------------------------------------------------------ the rule, for n maps

def reference_table(n: int) -> np.ndarray:
    """The book's generalisation of Table I to a circle of n input maps (n even, >= 6): n
    contiguous triples, n contiguous quadruples, the n/2 quadruples made of two opposite
    pairs of neighbours {s, s+1, s+n/2, s+n/2+1}, and one column of all n maps."""
    groups = ([[(s + k) % n for k in range(3)] for s in range(n)]
              + [[(s + k) % n for k in range(4)] for s in range(n)]
              + [[(s + k) % n for k in (0, 1, n // 2, n // 2 + 1)] for s in range(n // 2)]
              + [list(range(n))])
    table = np.zeros((n, len(groups)), dtype=bool)
    for j, rows in enumerate(groups):
        table[rows, j] = True
    return table


def _groups_of(n: int) -> list[tuple[str, range]]:
    return [("the contiguous triples", range(0, n)), ("the contiguous quadruples", range(n, 2 * n)),
            ("the quadruples of two opposite pairs", range(2 * n, 2 * n + n // 2)),
            ("the column of all maps", range(2 * n + n // 2, 2 * n + n // 2 + 1))]


def check_connection_table(connection_table) -> None:
    """connection_table(n): the rule of Table I written for any even n >= 6 (tried on 8, 10
    and 12), so that the table comes from the rule and not from typing in its 96 entries.
    Tables of the right shape and type earn a part per group of columns that follows the
    rule for every n."""
    # n = 6 is Table I, which the checks of C3_TABLE grade: not penalised twice here.
    tables, reason = {}, None
    for n in (8, 10, 12):
        got = connection_table(n)
        _check_table_form(n, got)            # the wrong type or shape fails the whole cell
        tables[n] = got
        if reason is None and not np.array_equal(got, reference_table(n)):
            reason = _rule_slip(n, got)
    if reason is None:
        return
    parts, told = Parts(), False
    for index, group in enumerate(("the contiguous triples", "the contiguous quadruples",
                                   "the quadruples of two opposite pairs",
                                   "the column of all maps")):
        with parts(group):
            for n, got in tables.items():
                columns = list(_groups_of(n)[index][1])
                expected = reference_table(n)
                if not np.array_equal(got[:, columns], expected[:, columns]):
                    why = reason if not told else f"connection_table({n}): {group} differ " \
                                                  f"from the rule"
                    told = True
                    raise AssertionError(why)
    parts.verdict()


def _check_table_form(n: int, got) -> None:
    """Fail unless ``got`` is a bool array of the shape of the rule's table for n maps."""
    call, expected = f"connection_table({n})", reference_table(n)
    if type(got) is not np.ndarray:
        raise AssertionError(f"{call}: expected a NumPy array, got {type(got).__name__}")
    if got.shape == expected.T.shape and got.shape != expected.shape:
        raise AssertionError(f"{call}: expected shape {expected.shape} (rows: the {n} "
                             f"input maps, columns: the output maps), got {got.shape}: "
                             f"your table is transposed")
    if got.shape != expected.shape:
        raise AssertionError(
            f"{call}: expected shape {expected.shape}, got {got.shape}: {n} rows (the "
            f"input maps), and {expected.shape[1]} columns: {n} contiguous triples, {n} "
            f"contiguous quadruples, {n // 2} quadruples of two opposite pairs and one "
            f"column of all {n} maps")
    if got.dtype != np.bool_:
        raise AssertionError(f"{call}: expected dtype bool (True = connected), got "
                             f"{got.dtype}")


def _rule_slip(n: int, got) -> str:
    """Why ``got`` (of the right shape and type) is not the rule's table for n maps."""
    call, expected = f"connection_table({n})", reference_table(n)
    if not got[6:, :-1].any():
        return (f"{call}: input maps 6 to {n - 1} feed no output map but the last: the "
                f"circle has {n} maps, so count modulo n, not modulo 6")
    wrong = [j for j in range(expected.shape[1]) if not np.array_equal(got[:, j], expected[:, j])]
    j = wrong[0]
    where = next(name for name, cols in _groups_of(n) if j in cols)
    hint = {"the contiguous triples": "neighbours on a circle of n maps: after map n-1 "
                                      "comes map 0",
            "the contiguous quadruples": "neighbours on a circle of n maps: after map n-1 "
                                         "comes map 0",
            "the quadruples of two opposite pairs": "two pairs of neighbours, opposite each "
                                                    "other on the circle: {s, s+1, s+n/2, "
                                                    "s+n/2+1} for s = 0 ... n/2-1",
            "the column of all maps": "the last column reads every input map"}[where]
    return (f"{call}: {len(wrong)} columns differ from the rule; the first is column {j}, one "
            f"of {where}: it reads input maps {_maps(got[:, j])}, the rule gives "
            f"{_maps(expected[:, j])} ({hint})")


# ------------------------------------------------------------------ counts

def reference_counts(table, kernel: int, out_side: int) -> tuple[int, int]:
    """(trainable parameters, connections) of a convolution with a connection table: a
    kernel x kernel kernel per connected pair, one bias per output map (paper, p. 8)."""
    table = np.asarray(table, dtype=bool)
    params = int(table.sum()) * kernel * kernel + table.shape[1]
    return params, params * out_side * out_side



def _count_slip(table, kernel, out_side, params, connections) -> str:
    """What a wrong (params, connections) of a sparse convolution says about the reasoning."""
    table = np.asarray(table, dtype=bool)
    c, f = table.shape
    links, units = int(table.sum()), out_side * out_side
    right, _ = reference_counts(table, kernel, out_side)
    if params != right:
        if params == f * (c * kernel * kernel + 1):
            return ("that is a fully connected layer: only the pairs where the table is True "
                    "have a kernel")
        if params == links * kernel * kernel:
            return "add one bias per output map"
        if params == links * (kernel * kernel + 1):
            return "one bias per output map, not one per kernel"
        if params == links * kernel + f:
            return "a kernel has kernel*kernel weights"
        if params == right * units:
            return ("the weights are shared by all units of a map: count them once per map "
                    "(connections count them once per unit)")
        return ("count kernel*kernel weights for each True entry of the table, plus one bias "
                "per output map")
    if connections == params * out_side:
        return "each output map has out_side*out_side units"
    if connections == (params - f) * units:
        return "the bias is a connection of every unit too"
    return "every unit of an output map uses each of that map's weights and its bias once"


# Tables, kernel sizes and output sides the function is tried on (none is a layer of
# LeNet-5 other than C3 itself).
def _count_cases():
    gen = np.random.default_rng(4)
    random = gen.random((4, 7)) < 0.5
    random[0] = True                       # every output map has an input
    return [("Table I", paper_table(), 5, 10),
            ("Table I", paper_table(), 3, 12),
            ("a random (4, 7) table", random, 3, 6),
            ("a (2, 3) table of ones", np.ones((2, 3), dtype=bool), 5, 4),
            ("the (3, 3) identity table", np.eye(3, dtype=bool), 7, 2)]


def check_c3_counts(c3_params, c3_connections, sparse_conv_counts, table) -> None:
    """c3_params, c3_connections (1,516 and 151,600) and sparse_conv_counts(table, kernel,
    out_side) on other tables and sizes: three parts. ``table`` is the student's C3_TABLE:
    counts that are right for a wrong table lose no points here (the table's own checks
    report it)."""
    own = None
    if type(table) is np.ndarray and table.ndim == 2 and table.size:
        try:
            own = reference_counts(table, 5, 10)
        except (TypeError, ValueError):
            own = None
    paper = reference_counts(paper_table(), 5, 10)
    parts = Parts()
    for name, value, k in (("c3_params", c3_params, 0), ("c3_connections", c3_connections, 1)):
        with parts(name):
            if is_int(value) and own is not None and own != paper and int(value) == own[k]:
                continue                      # right for the student's own (wrong) table
            hint = None
            if is_int(value) and int(value) != paper[k]:
                wrong = (int(value), paper[1]) if k == 0 else (paper[0], int(value))
                hint = _count_slip(paper_table(), 5, 10, *wrong)
                hint = hint[0].upper() + hint[1:]
            check_int(name, value, paper[k], hint=hint)
    with parts("sparse_conv_counts on other tables, kernels and map sizes", weight=2):
        for description, t, kernel, out_side in _count_cases():
            call = f"sparse_conv_counts({description}, {kernel}, {out_side})"
            got = count_pair(sparse_conv_counts(t, kernel, out_side), call)
            expected = reference_counts(t, kernel, out_side)
            if tuple(int(v) for v in got) != expected:
                raise AssertionError(f"{call}: expected {expected}, got ({int(got[0])}, "
                                     f"{int(got[1])}): "
                                     + _count_slip(t, kernel, out_side, int(got[0]), int(got[1])))
    parts.verdict()


# ------------------------------------------------------------------ the layer

def reference_forward(x, w, b, table):
    """Independent formulation: windows of x against the weights, masked by the table."""
    kh, kw = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    used = np.where(np.asarray(table, bool).T[:, :, None, None], w, 0.0)
    out = np.tensordot(windows, used, axes=([1, 4, 5], [1, 2, 3]))      # (N, Ho, Wo, F)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None]


def reference_forward_loops(x, w, b, table):
    """The same by explicit loops over connected pairs and kernel offsets (slow; for tests)."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = h - kh + 1, wd - kw + 1
    out = np.zeros((n, f, ho, wo)) + b[None, :, None, None]
    for j in range(f):
        for i in range(c):
            if not table[i, j]:
                continue
            for p in range(kh):
                for q in range(kw):
                    out[:, j] += w[j, i, p, q] * x[:, i, p:p + ho, q:q + wo]
    return out


def _cases(gen):
    """(description, x, w, b, table): every w is nonzero everywhere, absent pairs included."""
    cases = []
    paper = paper_table()
    cases.append(("Table I, x of shape (2, 6, 14, 14)", gen.standard_normal((2, 6, 14, 14)),
                  gen.standard_normal((16, 6, 5, 5)), gen.standard_normal(16), paper))
    cases.append(("Table I, x of shape (3, 6, 9, 11)", gen.standard_normal((3, 6, 9, 11)),
                  gen.standard_normal((16, 6, 5, 5)), gen.standard_normal(16), paper))
    square = gen.random((4, 4)) < 0.5
    square[0, 0], square[0, 1], square[1, 0] = True, False, True   # not symmetric
    square[:, 3] = False                                            # a map with no inputs
    cases.append(("a random 4x4 table (C = F = 4, 3x3 kernels), x of shape (2, 4, 7, 6)",
                  gen.standard_normal((2, 4, 7, 6)), gen.standard_normal((4, 4, 3, 3)),
                  gen.standard_normal(4), square))
    cases.append(("a random 3x5 table (C = 3, F = 5, 2x4 kernels), x of shape (1, 3, 5, 8)",
                  gen.standard_normal((1, 3, 5, 8)), gen.standard_normal((5, 3, 2, 4)),
                  gen.standard_normal(5), gen.random((3, 5)) < 0.6))
    return cases


def _diagnose_forward(what, got, x, w, b, table):
    right = reference_forward(x, w, b, table)
    if type(got) is not np.ndarray or got.shape != right.shape:
        return
    full = np.ones_like(table, dtype=bool)
    wrong = {
        "your output uses every (S2 map, C3 map) pair: weights at connections that are absent "
        "from the table must not influence the output": reference_forward(x, w, b, full),
        "your output has no bias": reference_forward(x, w, np.zeros_like(b), table),
        "you flip the kernel (true convolution); like every convolutional layer in this "
        "book, C3 computes a cross-correlation: out[p, q] += w[a, b] * x[p + a, q + b]":
            reference_forward(x, w[:, :, ::-1, ::-1], b, table),
        "your output applies the squashing function; return the pre-activation (the "
        "squash is a separate step)":
            1.7159 * np.tanh(2.0 / 3.0 * reference_forward(x, w, b, table)),
    }
    if table.shape[0] == table.shape[1]:
        wrong["you read the table as table[C3 map, S2 map]; it is table[S2 map i, C3 map j]: "
              "True when S2 map i feeds C3 map j"] = reference_forward(x, w, b, table.T)
    for message, value in wrong.items():
        if matches(got, value) and not matches(right, value):
            raise AssertionError(f"{what}: {message}")


def check_sparse_conv_forward(sparse_conv_forward) -> None:
    """sparse_conv_forward(x, w, b, table) -> (out, cache): three parts, Table I (2), other
    tables and kernel sizes (1), and weights at absent connections changing nothing while
    the others do (1)."""
    gen = rng()
    cases = _cases(gen)
    outputs = {}

    def values(description, x, w, b, table):
        what = f"sparse_conv_forward with {description}"
        copies = [a.copy() for a in (x, w, b, table)]
        result = sparse_conv_forward(x, w, b, table)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise AssertionError(f"{what}: expected a pair (out, cache), got "
                                 f"{type(result).__name__}")
        for name, now, before in zip(("x", "w", "b", "table"), (x, w, b, table), copies):
            if not np.array_equal(now, before):
                raise AssertionError(f"{what}: your function changed its argument {name}"
                                     + (" (mask a copy of the weights, not w itself)"
                                        if name == "w" else ""))
        out = result[0]
        _diagnose_forward(what, out, x, w, b, table)
        check_array(what, out, reference_forward(x, w, b, table),
                    hint="out[n, j] = b[j] + sum over the S2 maps i with table[i, j] of the "
                         "valid cross-correlation of x[n, i] with w[j, i]")

    parts = Parts()
    with parts("Table I", weight=2):
        for case in cases[:2]:
            values(*case)
    with parts("other tables and kernel sizes"):
        for case in cases[2:]:
            values(*case)
    with parts("weights of absent connections change nothing, the others do"):
        for description, x, w, b, table in cases:
            what = f"sparse_conv_forward with {description}"
            out = np.asarray(sparse_conv_forward(x, w, b, table)[0])
            junk = w.copy()
            junk[~table.T] = gen.standard_normal(int((~table).sum()) * w.shape[2] * w.shape[3]
                                                 ).reshape(-1, w.shape[2], w.shape[3])
            out2 = sparse_conv_forward(x, junk, b, table)[0]
            check_array(f"{what}, after changing only the weights of absent connections", out2,
                        out, hint="Weights at pairs where the table is False must not "
                                  "influence the output")
            present = w.copy()
            present[table.T] += 1.0
            out3 = np.asarray(sparse_conv_forward(x, present, b, table)[0])
            if out3.shape == out.shape and np.allclose(out3, out):
                raise AssertionError(f"{what}: changing the weights of the connections in the "
                                     f"table does not change your output; they must be used")
    parts.verdict()


def check_sparse_conv_backward(sparse_conv_forward, sparse_conv_backward) -> None:
    """sparse_conv_backward(dout, cache) -> (dx, dw, db) against finite differences, one part
    per gradient; zero dw at absent connections. The cache comes from the student's own
    forward pass (its format is theirs), whose output is not graded here."""
    gen = rng()
    cases = _cases(gen)
    results = []
    for description, x, w, b, table in [cases[0], cases[2], cases[3]]:
        if x.shape[2] > 10:
            x = x[:1, :, :9, :9]                 # keep the finite differences quick
            description = description.split(",")[0] + ", x of shape (1, 6, 9, 9)"
        what = f"sparse_conv_backward with {description}"
        _, cache = sparse_conv_forward(x.copy(), w.copy(), b.copy(), table.copy())
        f, _, kh, kw = w.shape
        dout = gen.standard_normal((x.shape[0], f, x.shape[2] - kh + 1, x.shape[3] - kw + 1))
        before = dout.copy()
        result = sparse_conv_backward(dout, cache)
        dx, dw, db = unpack_gradients(what, result, ("dx", "dw", "db"), dout, before)
        results.append((what, x, w, b, table, dout, dx, dw, db))

    parts = Parts()
    with parts("dx"):
        for what, x, w, b, table, dout, dx, _, _ in results:
            ex = numerical_gradient(lambda v: reference_forward(v, w, b, table), x.copy(), dout)
            if type(dx) is np.ndarray and dx.shape == x.shape:
                full_dx = numerical_gradient(
                    lambda v: reference_forward(v, w, b, np.ones_like(table)), x.copy(), dout)
                if matches(dx, full_dx) and not matches(ex, full_dx):
                    raise AssertionError(f"{what}: dx uses the weights of absent connections "
                                         f"too; only connected pairs pass gradient back to x")
                if matches(dx, ex[..., ::-1, ::-1]) and not matches(ex, ex[..., ::-1, ::-1]):
                    raise AssertionError(f"{what}: dx is flipped: check how the gradient of "
                                         f"x[p + a, q + b] collects w[a, b] * dout[p, q]")
            check_array(f"{what}: dx", dx, ex, rtol=1e-5, atol=1e-7,
                        hint="dx[n, i, p+a, q+b] collects w[j, i, a, b] * dout[n, j, p, q] for "
                             "every connected C3 map j")
    with parts("dw"):
        for what, x, w, b, table, dout, _, dw, _ in results:
            ew = numerical_gradient(lambda v: reference_forward(x, v, b, table), w.copy(), dout)
            absent = np.broadcast_to(~table.T[:, :, None, None], w.shape)
            if type(dw) is np.ndarray and dw.shape == w.shape and absent.any() and \
                    np.any(dw[absent] != 0):
                full_dw = numerical_gradient(
                    lambda v: reference_forward(x, v, b, np.ones_like(table)), w.copy(), dout)
                if matches(dw, full_dw):
                    raise AssertionError(f"{what}: dw is nonzero at absent connections (where "
                                         f"the table is False); it must be exactly 0 there, "
                                         f"so that training never creates those connections")
                raise AssertionError(f"{what}: dw is nonzero at absent connections (where the "
                                     f"table is False); it must be exactly 0 there")
            check_array(f"{what}: dw", dw, ew, rtol=1e-5, atol=1e-7,
                        hint="dw[j, i, a, b] adds up dout[n, j, p, q] * x[n, i, p+a, q+b] over "
                             "images and positions, for connected pairs only")
    with parts("db"):
        for what, x, w, b, table, dout, _, _, db in results:
            eb = numerical_gradient(lambda v: reference_forward(x, w, v, table), b.copy(), dout)
            check_array(f"{what}: db", db, eb, rtol=1e-5, atol=1e-7,
                        hint="db[j] adds up dout[n, j] over images and positions")
    parts.verdict()

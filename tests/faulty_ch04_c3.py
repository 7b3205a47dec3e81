"""Deliberately wrong submissions of chapter 4 (C3), with the grade and diagnosis they earn.

Chapter 4's test cells: c3_table_visible, c3_table_hidden (C3_TABLE against Table I),
connection_table_hidden (the rule for 8, 10 and 12 maps), and c3_counts, sparse_conv_forward
and sparse_conv_backward, visible and hidden each; their points are the notebook's
(tests/faulty.py). A wrong table
costs the table's points only: the counts are accepted when they are right for the
student's own table, and the convolution's checks use their own tables. A table typed in
from the paper keeps the C3_TABLE points but not the rule's.

Hidden checks give partial credit per part: C3_TABLE per group of columns (one point per
column), connection_table per group of the rule, the counts for c3_params, c3_connections and
the function (weight 2), the forward pass for Table I (weight 2), other tables (1) and absent
weights (1), the backward pass per gradient (dx, dw, db).

A forward pass that modifies its argument w is reported by the visible check in the
student's kernel, but costs no points: the judge's arguments are copies, so the in-place
change cannot be seen from there (and changes nothing the judge grades).
"""

_TABLE = '''
def connection_table(n):
    groups = ([{triples} for s in range(n)]
              + [[(s + k) % {modulus} for k in range(4)] for s in range(n)]
              + [[(s + k) % {modulus} for k in (0, 1, n // 2, n // 2 + 1)] for s in {starts}]
              + [list(range(n))])
    table = np.zeros((n, len(groups)), dtype=bool)
    for j, inputs in enumerate(groups):
        table[inputs, j] = True
    return {final}


C3_TABLE = connection_table(6)
'''

_RIGHT = dict(triples="[(s + k) % n for k in range(3)]", starts="range(n // 2)",
              final="table", modulus="n")
TABLE_TRANSPOSED = _TABLE.format(**{**_RIGHT, "final": "table.T.copy()"})
TABLE_INVERTED = _TABLE.format(**{**_RIGHT, "final": "~table"})
TABLE_NO_WRAP = _TABLE.format(**{**_RIGHT, "triples": "[k for k in range(s, s + 3) if k < n]"})
TABLE_NONCONTIGUOUS_ORDER = _TABLE.format(**{**_RIGHT, "starts": "range(0, n, 2)"})
TABLE_MODULO_6 = _TABLE.format(**{**_RIGHT, "modulus": "6",
                                  "triples": "[(s + k) % 6 for k in range(3)]"})

_TYPED = '''
C3_TABLE = np.array([[1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1],
                     [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1],
                     [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1],
                     [{row3}],
                     [0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1],
                     [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1]], dtype=bool)


def connection_table(n):
    return C3_TABLE
'''
TABLE_TYPED = _TYPED.format(row3="0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1")
TABLE_TYPO = _TYPED.format(row3="0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1")

_FORWARD = '''
def sparse_conv_forward(x, w, b, table):
    kh, kw = w.shape[2:]
    mask = np.asarray(table, dtype=bool).T[:, :, None, None]
    used = np.where(mask, w, 0.0)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    out = np.einsum("nchwuv,fcuv->nfhw", windows, {weights}) + b[None, :, None, None]
    return out, (x, {cached}, table)
'''
FORWARD_FULL = _FORWARD.format(weights="w", cached="used")
FORWARD_FLIPPED = _FORWARD.format(weights="used[:, :, ::-1, ::-1]", cached="used")

_BACKWARD = '''
def sparse_conv_backward(dout, cache):
    x, weights, table = cache
    mask = np.asarray(table, dtype=bool).T[:, :, None, None]
    kh, kw = weights.shape[2:]
    ho, wo = dout.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    dw = np.einsum("nfhw,nchwuv->fcuv", dout, windows)
    dw = {dw}
    db = dout.sum(axis=(0, 2, 3))
    dx = np.zeros(x.shape)
    for u in range(kh):
        for v in range(kw):
            dx[:, :, u:u + ho, v:v + wo] += np.einsum("nfhw,fc->nchw", dout, weights[:, :, u, v])
    return dx, dw, db
'''
BACKWARD_DW_UNMASKED = _BACKWARD.format(dw="dw")
# db averaged over the batch and positions instead of summed: dx and dw keep their parts.
BACKWARD_DB_MEAN = _BACKWARD.format(dw="np.where(mask, dw, 0.0)").replace(
    "db = dout.sum(axis=(0, 2, 3))", "db = dout.mean(axis=(0, 2, 3))")
# With a forward pass that caches the raw w: dw is masked, but dx uses every weight.
FORWARD_CACHES_RAW_W = _FORWARD.format(weights="used", cached="w.copy()")
BACKWARD_DX_UNMASKED = _BACKWARD.format(dw="np.where(mask, dw, 0.0)")

_COUNTS = '''
def sparse_conv_counts(table, kernel, out_side):
    table = np.asarray(table, dtype=bool)
    params = {params}
    return params, {connections}


c3_params, c3_connections = {c3}
'''
_RIGHT_COUNTS = dict(params="int(table.sum()) * kernel * kernel + table.shape[1]",
                     connections="params * out_side * out_side",
                     c3="sparse_conv_counts(C3_TABLE, 5, 10)")
COUNTS_FULL = _COUNTS.format(**{**_RIGHT_COUNTS,
                                "params": "table.shape[1] * (table.shape[0] * kernel * kernel + 1)"})
COUNTS_NO_BIAS = _COUNTS.format(**{**_RIGHT_COUNTS, "params": "int(table.sum()) * kernel * kernel"})
# The bias is a parameter but not counted as a connection: 150,000 connections instead of 151,600.
COUNTS_NO_BIAS_CONNECTION = _COUNTS.format(**{**_RIGHT_COUNTS, "connections":
                                              "int(table.sum()) * kernel * kernel * out_side ** 2"})
# The paper's numbers typed in, and a function that returns them whatever its arguments.
COUNTS_TYPED = _COUNTS.format(**{**_RIGHT_COUNTS, "params": "1516", "connections": "151600",
                                 "c3": "1516, 151600"})

FAULTY = {
    "c3_table_transposed": ("ch04_c3", {"c3_table": TABLE_TRANSPOSED}),
    "c3_table_inverted": ("ch04_c3", {"c3_table": TABLE_INVERTED}),
    "c3_table_no_wrap": ("ch04_c3", {"c3_table": TABLE_NO_WRAP}),
    "c3_table_noncontiguous_order": ("ch04_c3", {"c3_table": TABLE_NONCONTIGUOUS_ORDER}),
    "c3_table_modulo_6": ("ch04_c3", {"c3_table": TABLE_MODULO_6}),
    "c3_table_typed": ("ch04_c3", {"c3_table": TABLE_TYPED}),
    "c3_table_typo": ("ch04_c3", {"c3_table": TABLE_TYPO}),
    "c3_forward_full": ("ch04_c3", {"sparse_conv_forward": FORWARD_FULL}),
    "c3_forward_flipped": ("ch04_c3", {"sparse_conv_forward": FORWARD_FLIPPED}),
    "c3_backward_dw_unmasked": ("ch04_c3", {"sparse_conv_backward": BACKWARD_DW_UNMASKED}),
    "c3_backward_dx_unmasked": ("ch04_c3", {"sparse_conv_forward": FORWARD_CACHES_RAW_W,
                                            "sparse_conv_backward": BACKWARD_DX_UNMASKED}),
    "c3_backward_db_mean": ("ch04_c3", {"sparse_conv_backward": BACKWARD_DB_MEAN}),
    "c3_counts_full": ("ch04_c3", {"c3_counts": COUNTS_FULL}),
    "c3_counts_no_bias": ("ch04_c3", {"c3_counts": COUNTS_NO_BIAS}),
    "c3_counts_typed": ("ch04_c3", {"c3_counts": COUNTS_TYPED}),
    "c3_counts_no_bias_connection": ("ch04_c3", {"c3_counts": COUNTS_NO_BIAS_CONNECTION}),
}

EXPECTED = {
    "c3_table_transposed": ({"c3_table_visible": 1, "c3_table_hidden": 1,
                             "connection_table_hidden": 1}, "your table is transposed"),
    "c3_table_inverted": ({"c3_table_visible": 1, "c3_table_hidden": 1,
                           "connection_table_hidden": 1}, "(inverted symbols)"),
    "c3_table_no_wrap": ({"c3_table_visible": 1, "c3_table_hidden": 0.375,
                          "connection_table_hidden": 0.25}, "The contiguous subsets wrap around"),
    "c3_table_noncontiguous_order": ({"c3_table_hidden": 0.1875, "connection_table_hidden": 0.25},
                                     "the non-contiguous quadruples (C3 maps 12-14) are wrong"),
    "c3_table_modulo_6": ({"connection_table_hidden": 0.75}, "count modulo n, not modulo 6"),
    "c3_table_typed": ({"c3_table_visible": 1, "connection_table_hidden": 1},
                       "connection_table(8): expected shape (8, 21), got (6, 16)"),
    "c3_table_typo": ({"c3_table_visible": 1, "c3_table_hidden": 0.75,
                       "connection_table_hidden": 1},
                      "row 3 (the C3 maps fed by S2 map 3) is wrong"),
    "c3_forward_full": ({"sparse_conv_forward_visible": 1, "sparse_conv_forward_hidden": 1},
                        "weights at connections that are absent"),
    "c3_forward_flipped": ({"sparse_conv_forward_visible": 1, "sparse_conv_forward_hidden": 0.75},
                           "you flip the kernel (true convolution)"),
    "c3_backward_dw_unmasked": ({"sparse_conv_backward_visible": 1,
                                 "sparse_conv_backward_hidden": 1 / 3},
                                "dw is nonzero at absent connections"),
    "c3_backward_dx_unmasked": ({"sparse_conv_backward_visible": 1,
                                 "sparse_conv_backward_hidden": 1 / 3},
                                "dx uses the weights of absent connections"),
    "c3_backward_db_mean": ({"sparse_conv_backward_visible": 1,
                             "sparse_conv_backward_hidden": 1 / 3}, "2 of 3 parts passed"),
    "c3_counts_full": ({"c3_counts_visible": 1, "c3_counts_hidden": 1},
                       "That is a fully connected layer"),
    "c3_counts_no_bias": ({"c3_counts_visible": 1, "c3_counts_hidden": 1},
                          "Add one bias per output map"),
    "c3_counts_typed": ({"c3_counts_visible": 1, "c3_counts_hidden": 0.5},
                        "sparse_conv_counts(Table I, 3, 12): expected"),
    "c3_counts_no_bias_connection": ({"c3_counts_visible": 1, "c3_counts_hidden": 0.75},
                                     "(connections): expected 480, got 432"),
}

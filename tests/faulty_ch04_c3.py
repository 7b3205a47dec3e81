"""Deliberately wrong submissions of chapter 4 (C3), with the grade and diagnosis they earn.

Chapter 4 has 17 points: c3_table 2 + 3, c3_counts_test 2, sparse_conv_forward 2 + 3,
sparse_conv_backward 2 + 3. A wrong table also spoils the counts (computed from it) and,
when its shape is wrong, the forward pass's visible check on Table I.
"""

_TABLE = '''
C3_TABLE = np.zeros((6, 16), dtype=bool)
groups = ([{triples} for s in range(6)]
          + [[(s + k) % 6 for k in range(4)] for s in range(6)]
          + [[(s + k) % 6 for k in (0, 1, 3, 4)] for s in {starts}]
          + [list(range(6))])
for j, inputs in enumerate(groups):
    C3_TABLE[inputs, j] = True
C3_TABLE = {final}
'''

_RIGHT = dict(triples="[(s + k) % 6 for k in range(3)]", starts="range(3)", final="C3_TABLE")
TABLE_TRANSPOSED = _TABLE.format(**{**_RIGHT, "final": "C3_TABLE.T.copy()"})
TABLE_INVERTED = _TABLE.format(**{**_RIGHT, "final": "~C3_TABLE"})
TABLE_NO_WRAP = _TABLE.format(**{**_RIGHT, "triples": "[k for k in range(s, s + 3) if k < 6]"})
TABLE_NONCONTIGUOUS_ORDER = _TABLE.format(**{**_RIGHT, "starts": "(0, 2, 4)"})

TABLE_TYPO = '''
C3_TABLE = np.array([[1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1],
                     [1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1],
                     [1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1],
                     [0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1],
                     [0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 0, 1],
                     [0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1]], dtype=bool)
'''

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

FORWARD_MODIFIES_W = '''
def sparse_conv_forward(x, w, b, table):
    kh, kw = w.shape[2:]
    w *= np.asarray(table, dtype=bool).T[:, :, None, None]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))
    out = np.einsum("nchwuv,fcuv->nfhw", windows, w) + b[None, :, None, None]
    return out, (x, w.copy(), table)
'''

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
# With a forward pass that caches the raw w: dw is masked, but dx uses every weight.
FORWARD_CACHES_RAW_W = _FORWARD.format(weights="used", cached="w.copy()")
BACKWARD_DX_UNMASKED = _BACKWARD.format(dw="np.where(mask, dw, 0.0)")

COUNTS_FULL = '''
kernel = 5 * 5
units = 10 * 10
c3_params = 16 * (6 * kernel + 1)
c3_connections = c3_params * units
'''

FAULTY = {
    "c3_table_transposed": ("ch04_c3", {"c3_table": TABLE_TRANSPOSED}),
    "c3_table_inverted": ("ch04_c3", {"c3_table": TABLE_INVERTED}),
    "c3_table_no_wrap": ("ch04_c3", {"c3_table": TABLE_NO_WRAP}),
    "c3_table_noncontiguous_order": ("ch04_c3", {"c3_table": TABLE_NONCONTIGUOUS_ORDER}),
    "c3_table_typo": ("ch04_c3", {"c3_table": TABLE_TYPO}),
    "c3_forward_full": ("ch04_c3", {"sparse_conv_forward": FORWARD_FULL}),
    "c3_forward_flipped": ("ch04_c3", {"sparse_conv_forward": FORWARD_FLIPPED}),
    "c3_forward_modifies_w": ("ch04_c3", {"sparse_conv_forward": FORWARD_MODIFIES_W}),
    "c3_backward_dw_unmasked": ("ch04_c3", {"sparse_conv_backward": BACKWARD_DW_UNMASKED}),
    "c3_backward_dx_unmasked": ("ch04_c3", {"sparse_conv_forward": FORWARD_CACHES_RAW_W,
                                            "sparse_conv_backward": BACKWARD_DX_UNMASKED}),
    "c3_counts_full": ("ch04_c3", {"c3_counts": COUNTS_FULL}),
}

EXPECTED = {
    "c3_table_transposed": (8, "your table is transposed"),
    "c3_table_inverted": (10, "(inverted symbols)"),
    "c3_table_no_wrap": (10, "The contiguous subsets wrap around"),
    "c3_table_noncontiguous_order": (14, "the non-contiguous quadruples (C3 maps 12-14) are wrong"),
    "c3_table_typo": (10, "row 3 (the C3 maps fed by S2 map 3) is wrong"),
    "c3_forward_full": (12, "weights at connections that are absent"),
    "c3_forward_flipped": (12, "you flip the kernel (true convolution)"),
    "c3_forward_modifies_w": (12, "your function changed its argument w"),
    "c3_backward_dw_unmasked": (12, "dw is nonzero at absent connections"),
    "c3_backward_dx_unmasked": (12, "dx uses the weights of absent connections"),
    "c3_counts_full": (15, "2,416 would be a fully connected C3"),
}

"""Deliberately wrong chapter-1 submissions and what the grader must make of them.

Chapter 1's test cells: decode_idx (visible, hidden, malformed data), read_idx (visible,
hidden), to_lenet_input (visible, hidden); their points are the notebook's (tests/faulty.py).
The hidden checks give partial credit per part: decode_idx one-byte values 1/4, multi-byte
values 2/4, dtypes 1/4; malformed data 1/4 per kind of damage; read_idx 1/2 per file;
to_lenet_input 1/3 each for the layout, the padding and the digit.
"""

ZERO_PADDING = '''
def to_lenet_input(images):
    out = np.zeros((images.shape[0], 1, 32, 32))
    out[:, 0, 2:30, 2:30] = images * (1.275 / 255) - 0.1
    return out
'''

NO_CHANNEL_AXIS = '''
def to_lenet_input(images):
    out = np.full((images.shape[0], 32, 32), -0.1)
    out[:, 2:30, 2:30] = images * (1.275 / 255) - 0.1
    return out
'''

# A complete read_idx that reads the elements little-endian (used by tests/corpus as a
# read_idx of its own; on the shipped uint8 files it gives the right arrays).
LITTLE_ENDIAN = '''
def read_idx(path):
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    kinds = {0x08: "u1", 0x09: "i1", 0x0B: "<i2", 0x0C: "<i4", 0x0D: "<f4", 0x0E: "<f8"}
    if len(raw) < 4 or raw[:2] != b"\\0\\0" or raw[2] not in kinds:
        raise ValueError("bad header")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(kinds[raw[2]])
    if len(raw) < 4 + 4 * ndim or len(raw) != 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError("wrong size")
    return np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(shape)
'''

_DECODE = '''
def decode_idx(raw):
    kinds = {{0x08: "u1", 0x09: "i1", 0x0B: "{e}i2", 0x0C: "{e}i4", 0x0D: "{e}f4", 0x0E: "{e}f8"}}
    if len(raw) < 4 or raw[:2] != b"\\0\\0" or raw[2] not in kinds:
        raise ValueError("bad header")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise ValueError("the header is cut short")
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(ndim))
    dtype = np.dtype(kinds[raw[2]])
    if len(raw) {compare} 4 + 4 * ndim + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError("wrong size")
    return np.frombuffer(raw, dtype, count=int(np.prod(shape)), offset=4 + 4 * ndim).reshape(shape){convert}
'''

DECODE_LITTLE_ENDIAN = _DECODE.format(e="<", compare="!=", convert="")
DECODE_BIG_ENDIAN_RESULT = _DECODE.format(e=">", compare="!=", convert="")
DECODE_ACCEPTS_EXTRA_BYTES = _DECODE.format(e=">", compare="<",
                                            convert=".astype(dtype.newbyteorder('='))")

READ_WITHOUT_GZIP = '''
def read_idx(path):
    with open(path, "rb") as f:
        return decode_idx(f.read())
'''

INK_175 = '''
def to_lenet_input(images):
    out = np.full((len(images), 1, 32, 32), -0.1)
    out[:, 0, 2:30, 2:30] = images * (1.85 / 255) - 0.1
    return out
'''

BACKGROUND_ONLY = '''
def to_lenet_input(images):
    return np.full((len(images), 1, 32, 32), -0.1)
'''

# student -> (chapter, {grade_id: replacement source})
FAULTY = {
    "pads_with_zero": ("ch01_input", {"to_lenet_input": ZERO_PADDING}),
    "no_channel_axis": ("ch01_input", {"to_lenet_input": NO_CHANNEL_AXIS}),
    "little_endian": ("ch01_input", {"decode_idx": DECODE_LITTLE_ENDIAN}),
    "big_endian_result": ("ch01_input", {"decode_idx": DECODE_BIG_ENDIAN_RESULT}),
    "accepts_extra_bytes": ("ch01_input", {"decode_idx": DECODE_ACCEPTS_EXTRA_BYTES}),
    "accepts_extra_bytes_parts": ("ch01_input", {"decode_idx": DECODE_ACCEPTS_EXTRA_BYTES}),
    "background_only": ("ch01_input", {"to_lenet_input": BACKGROUND_ONLY}),
    "forgets_gzip": ("ch01_input", {"read_idx": READ_WITHOUT_GZIP}),
    "ink_175": ("ch01_input", {"to_lenet_input": INK_175}),
    "ink_175_visible": ("ch01_input", {"to_lenet_input": INK_175}),
    "loops_forever": ("ch01_input", {"read_idx": "while True:\n    pass"}),
    "raises": ("ch01_input", {"to_lenet_input": "raise RuntimeError('I give up')"}),
    "kills_kernel": ("ch01_input", {"read_idx": "import os\nos._exit(1)"}),
}

# student -> ({test cell: share of its points lost}, a phrase the feedback must contain);
# the other students are tested in tests/test_grading.py
EXPECTED = {
    "pads_with_zero": ({"to_lenet_input_visible": 1, "to_lenet_input_hidden": 1 / 3},
                       "they must be -0.1, not 0"),
    "no_channel_axis": ({"to_lenet_input_visible": 1, "to_lenet_input_hidden": 1 / 3},
                        "expected shape (2, 1, 32, 32), got (2, 32, 32)"),
    "little_endian": ({"decode_idx_visible": 1, "decode_idx_hidden": 0.5}, "byte-swapped"),
    "big_endian_result": ({"decode_idx_visible": 1, "decode_idx_hidden": 0.25},
                          "native byte order"),
    "accepts_extra_bytes": ({"decode_idx_visible": 1, "decode_idx_malformed_hidden": 0.25},
                            "one element too many"),
    # review E: missing only the "too many bytes" case costs that part, not the whole cell
    "accepts_extra_bytes_parts": ({"decode_idx_visible": 1, "decode_idx_malformed_hidden": 0.25},
                                  "3 of 4 parts passed"),
    "background_only": ({"to_lenet_input_visible": 1, "to_lenet_input_hidden": 1},
                        "the output holds no digit"),
    "forgets_gzip": ({"read_idx_visible": 1, "read_idx_hidden": 1}, "bad magic number"),
    "ink_175": ({"to_lenet_input_visible": 1, "to_lenet_input_hidden": 1 / 3}, "ink maps to 1.75"),
    # the visible check compares a slice: its message names the pixels, not "index ()"
    "ink_175_visible": ({"to_lenet_input_visible": 1, "to_lenet_input_hidden": 1 / 3},
                        "x[0, 0, 2, 1:4] (padding, the ink pixel, paper): 1 of 3 values are "
                        "wrong; first at index (1,)"),
    "loops_forever": ({"read_idx_visible": 1, "read_idx_hidden": 1},
                      "ran past its time limit of 20 s"),
    "raises": ({"to_lenet_input_visible": 1, "to_lenet_input_hidden": 1}, "I give up"),
}

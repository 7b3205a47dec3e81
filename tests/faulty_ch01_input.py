"""Deliberately wrong chapter-1 submissions and what the grader must make of them."""

ZERO_PADDING = '''
def to_lenet_input(images):
    out = np.zeros((images.shape[0], 1, 32, 32))
    out[:, 0, 2:30, 2:30] = images * (1.275 / 255) - 0.1
    return out
'''

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

INK_175 = '''
def to_lenet_input(images):
    out = np.full((len(images), 1, 32, 32), -0.1)
    out[:, 0, 2:30, 2:30] = images * (1.85 / 255) - 0.1
    return out
'''

# student -> (chapter, {grade_id: replacement source})
FAULTY = {
    "pads_with_zero": ("ch01_input", {"to_lenet_input": ZERO_PADDING}),
    "little_endian": ("ch01_input", {"read_idx": LITTLE_ENDIAN}),
    "ink_175": ("ch01_input", {"to_lenet_input": INK_175}),
    "loops_forever": ("ch01_input", {"read_idx": "while True:\n    pass"}),
    "raises": ("ch01_input", {"to_lenet_input": "raise RuntimeError('I give up')"}),
    "kills_kernel": ("ch01_input", {"read_idx": "import os\nos._exit(1)"}),
}

# student -> (score, a phrase the feedback must contain); the other students are tested in
# tests/test_grading.py
EXPECTED = {
    "pads_with_zero": (5, "they must be -0.1, not 0"),
    "little_endian": (5, "byte-swapped"),
    "ink_175": (5, "ink maps to 1.75"),
    "loops_forever": (5, "CellTimeoutError"),
    "raises": (5, "I give up"),
}

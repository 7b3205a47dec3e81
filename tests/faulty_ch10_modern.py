"""Deliberately wrong chapter-10 submissions and what the grader must make of them."""

_RELU = '''
def relu_forward(x):
    return {forward}, x

def relu_backward(dout, cache):
    return {backward}
'''

_MAXPOOL = '''
def maxpool_forward(x):
    n, c, h, w = x.shape
    blocks = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = blocks.{reduce}(axis=(3, 5))
    return out, (x, out)

def maxpool_backward(dout, cache):
    x, out = cache
    up = np.repeat(np.repeat(out, 2, axis=2), 2, axis=3)
    spread = np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3)
    return {backward}
'''

_SOFTMAX = '''
def softmax_cross_entropy(scores, labels):
    n = len(labels)
    {probs}
    loss = -np.log(p[np.arange(n), labels]).{reduce}()
    d = p.copy()
    d[np.arange(n), labels] -= 1
    return float(loss), d{scale}
'''

_COUNTS = """
def variant_layer_params(side):
    s = ((side - 4) // 2 - 4) // 2
    return {{"conv1": {conv1}, "conv2": {conv2}, "dense1": {dense1},
            "dense2": (120 + 1) * 84, "dense3": (84 + 1) * 10}}

keras_variant_params = sum(variant_layer_params(28).values())
keras_variant_params_32 = sum(variant_layer_params(32).values())
"""

_FORWARD = """
def variant_forward(x, params):
    p = params
    a, _ = conv_forward(x, p["conv1_w"], p["conv1_b"])
    a, _ = maxpool_forward(relu_forward(a)[0])
    a, _ = conv_forward(a, p["conv2_w"], p["conv2_b"])
    a, _ = maxpool_forward(relu_forward(a)[0])
    a = a{flatten}.reshape(len(x), -1)
    a, _ = relu_forward(dense_forward(a, p["dense1_w"], p["dense1_b"])[0])
    a, _ = relu_forward(dense_forward(a, p["dense2_w"], p["dense2_b"])[0])
    scores, _ = dense_forward(a, p["dense3_w"], p["dense3_b"])
    {last}
"""

FAULTY = {
    "leaky_relu": ("ch10_modern", {"relu": _RELU.format(
        forward="np.where(x > 0, x, 0.01 * x)", backward="dout * np.where(cache > 0, 1.0, 0.01)")}),
    "average_pool": ("ch10_modern", {"maxpool": _MAXPOOL.format(
        reduce="mean", backward="spread / 4")}),
    "tie_to_every_max": ("ch10_modern", {"maxpool": _MAXPOOL.format(
        reduce="max", backward="spread * (x == up)")}),
    "overflowing_softmax": ("ch10_modern", {"softmax_cross_entropy": _SOFTMAX.format(
        probs="p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)",
        reduce="mean", scale=" / n")}),
    "summed_loss": ("ch10_modern", {"softmax_cross_entropy": _SOFTMAX.format(
        probs="z = scores - scores.max(axis=1, keepdims=True)\n"
              "    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)",
        reduce="sum", scale="")}),
    # the gradient at x = 0 only (x >= 0 instead of x > 0): one part of three in the hidden cell
    "relu_gradient_at_zero": ("ch10_modern", {"relu": _RELU.format(
        forward="np.maximum(x, 0.0)", backward="dout * (cache >= 0)")}),
    # the seed article's average pooling hard-coded, the pooling argument ignored
    "forward_ignores_pooling": ("ch10_modern", {"variant_forward": _FORWARD.replace(
        "def variant_forward(x, params):",
        "def variant_forward(x, params, activation=relu_forward, pooling=maxpool_forward):").replace(
        "maxpool_forward(relu_forward(a)[0])",
        "(lambda m: (m.reshape(len(m), m.shape[1], m.shape[2] // 2, 2, m.shape[3] // 2, 2)"
        ".mean(axis=(3, 5)), None))(relu_forward(a)[0])").format(flatten="", last="return scores")}),
    # counts: biases left out everywhere; conv2 through Table I; typed-in values that do not
    # follow the input's side
    "counts_without_biases": ("ch10_modern", {"keras_counts": _COUNTS.format(
        conv1="6 * 25", conv2="16 * 6 * 25", dense1="16 * s * s * 120").replace(
        "(120 + 1) * 84", "120 * 84").replace("(84 + 1) * 10", "84 * 10")}),
    "counts_sparse_c3": ("ch10_modern", {"keras_counts": _COUNTS.format(
        conv1="6 * 26", conv2="1_516", dense1="(16 * s * s + 1) * 120")}),
    "counts_typed_in": ("ch10_modern", {"keras_counts": (
        "def variant_layer_params(side):\n"
        "    return {'conv1': 156, 'conv2': 2_416, 'dense1': 30_840, 'dense2': 10_164,\n"
        "            'dense3': 850}\n\n"
        "keras_variant_params = 44_426\n"
        "keras_variant_params_32 = 61_706\n")}),
    # the forward pass: probabilities instead of scores; maps flattened position by position
    "forward_softmax": ("ch10_modern", {"variant_forward": _FORWARD.format(
        flatten="", last="e = np.exp(scores - scores.max(axis=1, keepdims=True))\n"
                         "    return e / e.sum(axis=1, keepdims=True)")}),
    "forward_flatten_order": ("ch10_modern", {"variant_forward": _FORWARD.format(
        flatten=".transpose(0, 2, 3, 1)", last="return scores")}),
}

# student -> ({test cell: share of its points lost}, a phrase the feedback must contain)
EXPECTED = {
    "leaky_relu": ({"relu_visible": 1, "relu_hidden": 1, "variant_forward_visible": 1},
                   "leaky ReLU"),
    "average_pool": ({"maxpool_visible": 1, "maxpool_hidden": 1, "variant_forward_visible": 1},
                     "you averaged each window"),
    # partial credit: forward and gradient without ties pass, the ties fail (2 of 3 parts)
    "tie_to_every_max": ({"maxpool_visible": 1, "maxpool_hidden": 1 / 3}, "to every tied maximum"),
    # partial credit: loss and gradient pass, scores of +-1000 fail (2 of 3 parts)
    "overflowing_softmax": ({"softmax_cross_entropy_visible": 1,
                             "softmax_cross_entropy_hidden": 1 / 3}, "2 of 3 parts passed"),
    # the visible check and a quarter of the hidden one
    "relu_gradient_at_zero": ({"relu_visible": 1, "relu_hidden": 0.25},
                              "Failed: relu_backward at x = 0"),
    "forward_ignores_pooling": ({"variant_forward_visible": 1, "variant_forward_hidden": 1},
                                "call pooling for both pooling layers"),
    "summed_loss": ({"softmax_cross_entropy_visible": 1, "softmax_cross_entropy_hidden": 1},
                    "you summed the losses"),
    "counts_without_biases": ({"keras_counts_hidden": 1, "variant_layer_params_hidden": 1},
                              "you left out the biases"),
    "counts_sparse_c3": ({"keras_counts_hidden": 1, "variant_layer_params_hidden": 1},
                         "not through Table I"),
    "counts_typed_in": ({"keras_counts_visible": 1, "variant_layer_params_hidden": 1},
                        "compute the sizes from side"),
    "forward_softmax": ({"variant_forward_visible": 1, "variant_forward_hidden": 1},
                        "you returned the softmax probabilities"),
    "forward_flatten_order": ({"variant_forward_visible": 1, "variant_forward_hidden": 1},
                              "you flattened the maps in the wrong order"),
}

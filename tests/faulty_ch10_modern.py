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
    "counts_without_biases": ("ch10_modern", {"keras_counts": (
        "keras_variant_params = 6 * 25 + 16 * 6 * 25 + 256 * 120 + 120 * 84 + 84 * 10\n"
        "keras_variant_params_32 = 6 * 25 + 16 * 6 * 25 + 400 * 120 + 120 * 84 + 84 * 10")}),
}

# student -> (score out of 16, a phrase the feedback must contain)
EXPECTED = {
    "leaky_relu": (13, "leaky ReLU"),
    "average_pool": (11, "you averaged each window"),
    "tie_to_every_max": (11, "to every tied maximum"),
    "overflowing_softmax": (11, "subtract each row"),
    "summed_loss": (11, "you summed the losses"),
    "counts_without_biases": (13, "you left out the biases"),
}

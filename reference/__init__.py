"""The instructor's reference implementation of LeNet-5: never installed for students, never
visible inside the grading sandbox.

- ``reference.model``: the fast, vectorised, faithful LeNet-5 used for training, the shipped
  weights and activations, and the hidden checks of chapter 9;
- ``reference.layers``: short, readable float64 reference layers (the hidden checks' oracle);
- ``reference.modern``: the seed article's modern variant (chapter 10's comparison).
"""

"""Hidden checks, one module per chapter: ``autograder.checks.<chapter>.check_<exercise>``.

A hidden test cell holds a single line that calls one of these with the student's function,
e.g. ``from autograder.checks.ch02_c1 import check_conv_forward; check_conv_forward(conv_forward)``,
so the feedback a student sees names the check and its diagnosis but shows no answer. Each
check tries more than the visible tests (random shapes, real digits, malformed input,
gradients against finite differences) and, where a wrong result matches a known
misconception, says which one.
"""

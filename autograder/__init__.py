"""The course's nbgrader setup: configuration, the hidden checks, and the instructor commands.

``python -m autograder release`` builds the student edition (``book/``) from ``solutions/``;
``python -m autograder grade SUBMITTED`` autogrades a class and writes feedback and grades.
"""

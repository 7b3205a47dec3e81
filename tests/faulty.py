"""The deliberately wrong submissions graded by the suite: from tests/faulty_<chapter>.py.

There are over a hundred, a class of them: grading all takes longer than the suite's 15
minutes on 2 cores. So the suite grades every fourth case of each chapter (in the order of
its file), plus the cases other tests read; ``LENET5_ALL_FAULTY=1`` grades every case (about
15 minutes for the class on 2 cores; run it after changing checks or messages).
"""
import importlib
import os
from pathlib import Path

# cases that other tests look at, always graded
ALWAYS = {"kills_kernel", "pads_with_zero", "loops_forever", "raises"}
EVERY = 1 if os.environ.get("LENET5_ALL_FAULTY") else 4

FAULTY, EXPECTED = {}, {}
for _path in sorted(Path(__file__).parent.glob("faulty_*.py")):
    _module = importlib.import_module(_path.stem)
    for _k, (_student, _case) in enumerate(_module.FAULTY.items()):
        if _k % EVERY == 0 or _student in ALWAYS:
            FAULTY[_student] = _case
    EXPECTED.update({s: e for s, e in _module.EXPECTED.items() if s in FAULTY})

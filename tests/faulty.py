"""All deliberately wrong submissions: the union of tests/faulty_<chapter>.py."""
import importlib
from pathlib import Path

FAULTY, EXPECTED = {}, {}
for _path in sorted(Path(__file__).parent.glob("faulty_*.py")):
    _module = importlib.import_module(_path.stem)
    FAULTY.update(_module.FAULTY)
    EXPECTED.update(_module.EXPECTED)

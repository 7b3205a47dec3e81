"""Imported by every grading kernel at start-up, before any student code (see autograder.sandbox).

- Loads the hidden checks (of the chapter in $LENET5_CHAPTER, else all), then, in the
  sandbox, deletes every check's source: the checks stay callable but a submission cannot
  read them.
- Makes numpy, lenet5 and autograder read-only: ``np.allclose = lambda *a, **k: True`` raises
  instead of changing what the checks compute.
"""
import importlib
import os
import pkgutil
import sys
import types

import numpy  # noqa: F401 - loaded here so that it is frozen below

import autograder.checks
import lenet5.testing  # noqa: F401

for _info in pkgutil.iter_modules(autograder.checks.__path__):
    if os.environ.get("LENET5_CHAPTER") not in (None, "", _info.name, "common"):
        continue  # grading one chapter: its checks are all it needs
    try:
        importlib.import_module(f"autograder.checks.{_info.name}")
    except Exception as _error:  # noqa: BLE001 - a broken chapter must not disarm the rest
        print(f"grader: cannot load autograder.checks.{_info.name}: {_error!r}", file=sys.stderr)

if os.environ.get("LENET5_SANDBOX"):
    for _folder in autograder.checks.__path__:
        for _name in os.listdir(_folder):
            if _name.endswith(".py"):
                os.remove(os.path.join(_folder, _name))


class ReadOnlyModule(types.ModuleType):
    """A module whose attributes cannot be set or deleted, except by the import of a submodule."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            return super().__setattr__(name, value)
        raise AttributeError(f"{self.__name__}.{name} cannot be changed while grading")

    def __delattr__(self, name):
        raise AttributeError(f"{self.__name__}.{name} cannot be deleted while grading")


for _name, _module in list(sys.modules.items()):
    if _name.split(".")[0] in ("numpy", "lenet5", "autograder") and \
            type(_module) is types.ModuleType:
        try:
            _module.__class__ = ReadOnlyModule
        except TypeError:
            pass

"""The device never pulls in the workstation's stack."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent

CODE = """
import importlib, pkgutil, sys
import device
for module in pkgutil.iter_modules(device.__path__):
    importlib.import_module("device." + module.name)
from device.card import DEFAULT_CARD
if DEFAULT_CARD.exists():
    device.recognizer.Recognizer()  # the interpreter is loaded too
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "sklearn", "training"))
print(",".join(bad))
"""


def test_device_does_not_import_training_tensorflow_or_sklearn():
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""

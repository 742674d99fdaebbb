"""The device never pulls in the workstation's stack."""

import subprocess
import sys

from tests.paths import REPO

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
    out = subprocess.run([sys.executable, "-c", CODE], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


def test_playlists_run_without_tensorflow():
    """``make demo`` installs no TensorFlow: ``python -m training playlists`` must not import it."""
    code = ("import runpy, sys; sys.modules['tensorflow'] = None; sys.argv = ['training', 'playlists', '--help']; "
            "runpy.run_module('training', run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "--library" in out.stdout


def test_every_training_command_is_the_one_its_module_defines():
    import argparse

    from training.__main__ import COMMANDS, command_module

    for name in COMMANDS:
        sub = argparse.ArgumentParser().add_subparsers()
        command_module(name).add_parser(sub)
        assert list(sub.choices) == [name]

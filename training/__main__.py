"""Command line of the workstation: ``python -m training {ser,ser-validate,playlists,music-model}``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

COMMANDS = {"ser": "train", "ser-validate": "crossval", "playlists": "playlists", "music-model": "music_train"}
"""Each subcommand and the module (in this package) whose ``add_parser`` and ``main`` it is.

Only the module of the command given is imported: ``playlists`` then runs without TensorFlow, which
``make demo`` does not install (it installs ``training/requirements-playlists.txt``).
"""


def command_module(name: str):
    """Import the module of the subcommand ``name``."""
    return importlib.import_module(f".{COMMANDS[name]}", __package__)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    top = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    for name in COMMANDS:
        if argv[:1] == [name]:
            module = command_module(name)
            module.add_parser(sub).set_defaults(main=module.main)
        else:
            sub.add_parser(name, help=f"see python -m training {name} --help")
    args = top.parse_args(argv)
    args.argv = argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.main(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Command line of the workstation: ``python -m training {ser,...}``."""

from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from . import crossval, music_train, playlists, train  # noqa: E402

COMMANDS = [train, crossval, playlists, music_train]


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(main=command.main)
    argv = sys.argv[1:] if argv is None else list(argv)
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

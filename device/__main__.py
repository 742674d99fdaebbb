"""Command line of the device: ``python -m device {classify,...}``.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``main(args) -> int``.
"""

from __future__ import annotations

import argparse
import logging
import sys

from . import calibrate, classify, history, run
from .errors import EmotuneError

COMMANDS = [classify, run, history, calibrate]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m device", description=__doc__.splitlines()[0])
    top.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub).set_defaults(main=command.main)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.main(args)
    except EmotuneError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

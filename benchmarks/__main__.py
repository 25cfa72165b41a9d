"""``python -m benchmarks [--full] [--only NAME ...] [--install-wrk]``: run, then report.

The entry point of ``make bench``. Runs the in-process, footprint and gunicorn
benchmarks (quick mode unless ``--full``), writes ``benchmarks/results/*.json``
after each, then regenerates ``docs/benchmarks.md`` and its charts. When wrk
is missing the gunicorn benchmark is skipped with instructions; the page is
still written from whatever results exist.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from benchmarks import footprint, http_load, inprocess, report
from benchmarks.environment import log, write_results

BENCHMARKS = ("inprocess", "footprint", "http")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks, then the report; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--full", action="store_true", help="the long run (quick by default)")
    parser.add_argument(
        "--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS), help="a subset"
    )
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk if absent")
    args = parser.parse_args(argv)
    status = 0
    started = time.monotonic()
    if "inprocess" in args.only:
        write_results("inprocess", inprocess.run(full=args.full))
    if "footprint" in args.only:
        log("footprint: import times and idle worker RSS")
        write_results("footprint", footprint.run(full=args.full))
    if "http" in args.only:
        if http_load.ensure_wrk(args.install_wrk):
            write_results("http", http_load.run(full=args.full))
        else:
            status = 2
    log(f"wrote {report.write()} after {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    raise SystemExit(main())

"""What holding a derive batch's Prefect slots costs: Prefect's ``concurrency()`` context
manager against flows/slots.py, on one real Prefect server started here.

Run: ``python bench/slots_bench.py [--docs 1000] [--batch 90] [--hold 0.5] [--rounds 2]``

Both hold the slots of ``--docs`` documents, ``--batch`` at a time, each batch for
``--hold`` seconds (standing for its derive), one batch after another, in alternating
rounds on the same limits. Printed per round: wall seconds, this process's CPU seconds,
and the ratio of ``concurrency()``'s wall time to flows/slots.py's. ``concurrency()`` also
emits, per limit, an "acquired" and a "released" event naming every other limit of the
call, which the server stores (docs/decisions/0016).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")


def prefect_concurrency(names: list[str]) -> AbstractContextManager[None]:
    from prefect.concurrency.sync import concurrency

    return concurrency(names, occupy=1, strict=True, timeout_seconds=600, lease_duration=300)


def policywatch_slots(names: list[str]) -> AbstractContextManager[bool]:
    from flows import slots

    return slots._holding(names, 600)


def hold_all(
    take: Callable[[list[str]], AbstractContextManager[object]],
    names: list[str],
    batch: int,
    hold: float,
) -> tuple[float, float]:
    """Wall and CPU seconds to hold every batch of ``names`` in turn."""
    wall, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(names), batch):
        with take(names[start : start + batch]):
            time.sleep(hold)
    return time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=1000, help="documents (one limit each)")
    parser.add_argument("--batch", type=int, default=90, help="documents per batch (<= 90)")
    parser.add_argument("--hold", type=float, default=0.5, help="seconds each batch holds")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both, alternating")
    args = parser.parse_args(argv)
    if not (1 <= args.batch <= 90 and args.docs >= 1 and args.rounds >= 1 and args.hold >= 0):
        print("slots_bench.py: --batch 1-90, --docs and --rounds 1 or more, --hold >= 0",
              file=sys.stderr)  # fmt: skip
        return 2
    from scale import prefect_server

    with tempfile.TemporaryDirectory(prefix="pw-slots-") as folder:
        with prefect_server(Path(folder)) as env:
            os.environ["PREFECT_API_URL"] = env["PREFECT_API_URL"]
            from flows import slots

            names = [slots.limit_name(f"bench-{i}") for i in range(args.docs)]
            started = time.perf_counter()
            slots.ensure_limits(names)
            batches = -(-args.docs // args.batch)
            print(f"{args.docs} limits made in {time.perf_counter() - started:.1f} s; "
                  f"{batches} batches of {args.batch}, each held {args.hold} s; load "
                  + " ".join(f"{x:.1f}" for x in os.getloadavg()))  # fmt: skip
            print(f"{'round':>5} {'concurrency() s':>15} {'CPU s':>6} "
                  f"{'flows/slots s':>13} {'CPU s':>6} {'ratio':>6}")  # fmt: skip
            for r in range(1, args.rounds + 1):
                old = hold_all(prefect_concurrency, names, args.batch, args.hold)
                new = hold_all(policywatch_slots, names, args.batch, args.hold)
                print(f"{r:>5} {old[0]:>15.2f} {old[1]:>6.2f} {new[0]:>13.2f} {new[1]:>6.2f} "
                      f"{old[0] / new[0]:>5.1f}x", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

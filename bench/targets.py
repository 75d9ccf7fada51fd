"""The performance issue's targets against the last run of each benchmark, as one table at the top of
BENCHMARKS.md.

    .venv/bin/python -m bench.targets    (the last step of make bench)

Reads the headline figures each benchmark keeps in bench/results/<name>.json (bench.report.save_results)
and writes the section "Against the targets". Nothing is asserted: a missed target is a row that says so,
and the sections below it say why.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.report import REPORT, load_results, replace_section

SECTION = "## Against the targets"
FIRST_SECTION = "## Event-store append"


@dataclass(frozen=True, slots=True)
class Target:
    what: str
    wanted: str
    source: str  # which results file
    measure: Callable[[dict[str, Any]], float | None]
    shown: Callable[[float], str]
    met: Callable[[float], bool]


def _append_ratio(writers: str, reference: str) -> Callable[[dict[str, Any]], float | None]:
    def ratio(results: dict[str, Any]) -> float | None:
        figures = results["by_writers"].get(writers)
        return None if figures is None else figures["ours"] / figures[reference]

    return ratio


def _at_rate(rate: str, key: str) -> Callable[[dict[str, Any]], float | None]:
    def value(results: dict[str, Any]) -> float | None:
        figures = results["by_rate"].get(rate)
        return None if figures is None else float(figures[key])

    return value


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _times(value: float) -> str:
    return f"{value:.1f} x"


def _per_s(value: float) -> str:
    return f"{value:,.0f}/s"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if math.isfinite(value) else "over 1% got no answer"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


TARGETS = [
    Target(
        "Append, 1 writer, against raw single-row INSERTs",
        "≥ 70%",
        "append",
        _append_ratio("1", "raw asyncpg"),
        _percent,
        lambda v: v >= 0.70,
    ),
    Target(
        "Append, 8 writers, against raw single-row INSERTs",
        "≥ 70%",
        "append",
        _append_ratio("8", "raw asyncpg"),
        _percent,
        lambda v: v >= 0.70,
    ),
    Target(
        "Append, 1 writer, against the `eventsourcing` library",
        "≥ 5 x",
        "append",
        _append_ratio("1", "eventsourcing"),
        _times,
        lambda v: v >= 5,
    ),
    Target(
        "Append, 8 writers, against the `eventsourcing` library",
        "≥ 5 x",
        "append",
        _append_ratio("8", "eventsourcing"),
        _times,
        lambda v: v >= 5,
    ),
    Target(
        "Bulk import, events/s", "≥ 50,000/s", "import", lambda r: r["ours"], _per_s, lambda v: v >= 50_000
    ),
    Target(
        "Bulk import, against raw COPY",
        "≥ 60%",
        "import",
        lambda r: r["ours"] / r["raw COPY"],
        _percent,
        lambda v: v >= 0.60,
    ),
    Target(
        "Read-side rebuild from offset 0, events/s",
        "≥ 30,000/s",
        "rebuild",
        lambda r: r["events_per_s"],
        _per_s,
        lambda v: v >= 30_000,
    ),
    Target(
        "Intake, commands/s with 2 workers (closed loop)",
        "≥ 1,000/s",
        "http",
        lambda r: r["commands_per_s"],
        _per_s,
        lambda v: v >= 1_000,
    ),
    Target(
        "Intake, latency p99 at 200 commands/s offered",
        "< 50 ms",
        "http",
        _at_rate("200", "latency_p99_ms"),
        _ms,
        lambda v: v < 50,
    ),
    Target(
        "Command to read side, lag p99 at 200 commands/s offered",
        "< 500 ms",
        "http",
        _at_rate("200", "lag_p99_ms"),
        _ms,
        lambda v: v < 500,
    ),
    Target(
        "Residence-history search p99 over HTTP (stays: see the rebuild row)",
        "< 20 ms",
        "rebuild",
        lambda r: r["search_p99_ms"],
        _ms,
        lambda v: v < 20,
    ),
    Target(
        "Peak memory of an intake worker under load",
        "< 300 MB",
        "http",
        lambda r: r["peak_mb"]["intake (2 workers)"],
        _mb,
        lambda v: v < 300,
    ),
    Target(
        "Peak memory of the read side under load",
        "< 300 MB",
        "http",
        lambda r: r["peak_mb"]["read side"],
        _mb,
        lambda v: v < 300,
    ),
    Target(
        "Peak memory of the rebuild",
        "< 1 GB",
        "rebuild",
        lambda r: r["rebuild_peak_mb"],
        _mb,
        lambda v: v < 1024,
    ),
]


def row(target: Target) -> str:
    results = load_results(target.source)
    value = None if results is None else target.measure(results)
    if results is None or value is None or value != value:  # not run, or no answers (NaN)
        return f"| {target.what} | {target.wanted} | not measured | — | — |"
    run = results["measured_at"]
    if target.source == "rebuild":
        run += f", {results['events']:,} events"
    verdict = "met" if target.met(value) else "**missed**"
    return f"| {target.what} | {target.wanted} | {target.shown(value)} | {verdict} | {run} |"


def section() -> str:
    return "\n".join(
        [
            SECTION,
            "",
            "Written by `.venv/bin/python -m bench.targets` (the last step of `make bench`) from the figures",
            "each benchmark kept of its last run (`bench/results/*.json`); the sections below hold the runs",
            "themselves, and for each missed target what the profile showed.",
            "",
            "| target | wanted | measured | result | last run |",
            "|---|---|---|---|---|",
            *(row(target) for target in TARGETS),
        ]
    )


def with_section(text: str, new: str) -> str:
    """The report with the targets section replaced, or put in above the first benchmark's section."""
    if new.splitlines()[0] in text.splitlines():
        return replace_section(text, new)
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if line.startswith(FIRST_SECTION))
    return "\n".join([*lines[:start], *new.splitlines(), "", *lines[start:]]) + "\n"


def main() -> int:
    new = section()
    print(new, flush=True)
    REPORT.write_text(with_section(REPORT.read_text(), new))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

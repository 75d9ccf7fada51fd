"""What the benchmarks share to write BENCHMARKS.md: a section replaced in place, the machine's load,
percentiles."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPORT = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
# Each benchmark's headline figures of its last run, for the targets table (bench/targets.py).
RESULTS = Path(__file__).resolve().parent / "results"


def save_results(name: str, figures: dict[str, Any]) -> None:
    """Keep a benchmark's headline figures, with when and under what load they were measured."""
    RESULTS.mkdir(exist_ok=True)
    record = {
        "measured_at": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "load_average": load_average(),
        **figures,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def load_results(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def replace_section(text: str, new: str) -> str:
    """`text` with the `## ` section that `new` starts with replaced by `new` (up to the next `## `
    heading), or `new` added at the end when the report has no such section yet."""
    heading = new.splitlines()[0]
    lines = text.splitlines()
    if heading not in lines:
        return text.rstrip("\n") + "\n\n" + new.rstrip("\n") + "\n"
    start = lines.index(heading)
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")), len(lines))
    tail = ["", *lines[end:]] if end < len(lines) else []
    return "\n".join([*lines[:start], *new.rstrip("\n").splitlines(), *tail]) + "\n"


def replace_table_section(text: str, new: str, *, table_header: str, insert_before: str) -> str:
    """`text` with the section `new` starts with replaced from its heading to the end of its table (the
    one whose header line starts with `table_header`), so that notes written under the table stay; or,
    when the report has no such section yet, `new` put in above the heading `insert_before`."""
    heading = new.splitlines()[0]
    lines = text.splitlines()
    if heading in lines:
        start = lines.index(heading)
        end = next(n for n in range(start, len(lines)) if lines[n].startswith(table_header))
        while end + 1 < len(lines) and lines[end + 1].startswith("|"):
            end += 1
        return "\n".join([*lines[:start], *new.splitlines(), *lines[end + 1 :]]) + "\n"
    start = next(n for n, line in enumerate(lines) if line.startswith(insert_before))
    return "\n".join([*lines[:start], *new.splitlines(), "", *lines[start:]]) + "\n"


def write_section(new: str) -> None:
    REPORT.write_text(replace_section(REPORT.read_text() if REPORT.exists() else "# Benchmarks\n", new))


def load_average() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


def run_line(minutes: float, load: str) -> str:
    return (
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()}, {os.cpu_count()} cores, in "
        f"{minutes:.0f} min. **Load average {load}** (1, 5, 15 min) at the start and the end: above the "
        "core count the machine was shared, and the figures are a loaded machine's."
    )


def percentile(values: list[float], share: float) -> float:
    """The value at `share` (0.5: median, 0.99: p99) of the sorted values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def peak_memory_mb(pid: int) -> dict[int, float]:
    """VmHWM (peak resident set) of a process and its children, in MB."""
    peaks: dict[int, float] = {}
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks[current] = int(line.split()[1]) / 1024
        pending.extend(int(child) for child in children)
    return peaks

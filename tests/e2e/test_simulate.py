"""`asielketen simulate` on a small scale: four weeks at 5% of the national inflow (about 70 households)
through the real HTTP APIs of the five services, week by week; then the read side is asked, person by
person, what it knows. It must show exactly what the simulation registered — every person, every minor,
every accelerated stream — and those figures must be the DOMAIN.md parameters within what so small a
sample allows.

Tolerance: three standard errors of a share over the households (minors and streams come per household,
so the households, not the people, are the independent draws), and never tighter than 10%; with ~70
households that is about ±0.16 around 27% minors and ±0.13 around 15% accelerated. The full-size check,
a national year within 10%, is tests/unit/test_simulator_plan.py."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta
from pathlib import Path

import pytest

from shared.cli import main
from simulator.client import observe
from simulator.flow import Simulation
from simulator.parameters import ACCELERATED_SHARE, FIRST_APPLICATIONS_PER_YEAR, MINORS_SHARE, national
from tests.e2e.stack import Chain, ServiceStack

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

YEARS, SCALE = 4 / 52, 0.05


def tolerance(share: float, households: int) -> float:
    return max(0.10 * share, 3 * math.sqrt(share * (1 - share) / households))


async def test_a_scaled_down_national_flow_shows_on_the_read_side_as_planned(chain: Chain) -> None:
    parameters = national(years=YEARS, scale=SCALE)
    simulation = Simulation(chain, parameters, seed=11, window=timedelta(days=7))
    planned = simulation.report.households

    report = await simulation.run()
    seen = await observe(chain, report, sample=report.registered_people)

    print(f"simulate: {report.commands} commands, {report.registered_people} people, {report.phases}")
    # Every person registered is on the read side, with the role and the stream the simulation gave them.
    everyone = [member for h in planned for member in h.members]
    streamed = [h for h in planned if h.stream_at]
    assert seen.registered == seen.sampled == report.registered_people == len(everyone)
    assert seen.minors == sum(member["role"] == "child" for member in everyone)
    assert seen.streamed == sum(len(h.members) for h in streamed)
    assert seen.accelerated == sum(len(h.members) for h in streamed if h.accelerated)

    # And those are the national figures, as far as ~70 households can show them: 4 weeks at 5% is
    # ~135 people; households of 1 to 5 people put the standard error of that total near 8%.
    assert seen.registered == pytest.approx(FIRST_APPLICATIONS_PER_YEAR * YEARS * SCALE, rel=0.25)
    assert abs(seen.minors_share - MINORS_SHARE) <= tolerance(MINORS_SHARE, len(planned))
    accelerated_households = sum(h.accelerated for h in streamed) / len(streamed)
    assert abs(accelerated_households - ACCELERATED_SHARE) <= tolerance(ACCELERATED_SHARE, len(streamed))
    assert abs(seen.accelerated_share - ACCELERATED_SHARE) <= tolerance(ACCELERATED_SHARE, len(streamed))


async def test_the_simulate_command_drives_a_running_stack_with_a_token_from_the_dev_key(
    stack: ServiceStack, auth_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command finds the development key under its data directory, as `make run` leaves it there.
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "auth").symlink_to(auth_dir)
    urls = [f"--url={name}={url}" for name, url in stack.urls.items()]

    code = await asyncio.to_thread(
        main, ["simulate", "--years", "0.02", "--scale", "0.01", "--data-dir", str(data_dir), *urls]
    )

    assert code == 0  # every person it registered is on the read side
    out = capsys.readouterr().out
    assert "simulating 0.02 year(s) at scale 0.01: 4 households" in out
    assert "minors" in out and "accelerated" in out

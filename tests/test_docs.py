"""README's Quick start is what CI runs, and the example it names exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _quick_start_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    commands = _quick_start_commands()
    assert len(commands) == 2
    install_run, tests = commands
    assert "listenkit analyze examples/" in install_run
    assert "pytest" in tests
    assert tests in (REPO / ".ci" / "run").read_text()


def test_example_recording_and_reference_exist():
    example = _quick_start_commands()[0].split("listenkit analyze ", 1)[1].split()[0]
    assert (REPO / example).is_file()
    assert (REPO / example).with_suffix(".rttm").is_file()
    assert (REPO / "examples" / "ATTRIBUTION.md").is_file()

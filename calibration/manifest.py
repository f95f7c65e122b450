"""Manifests: one JSON object per line describing an evaluation recording and its reference.

Required keys: ``audio`` and ``rttm`` (paths, relative to the manifest's folder or absolute),
``n_speakers`` (true count), ``split`` and ``description``. Anything else is kept as is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUIRED = ("audio", "rttm", "n_speakers", "split", "description")


@dataclass
class Entry:
    """One line of a manifest, with paths resolved."""

    audio: Path
    rttm: Path
    n_speakers: int
    split: str
    description: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The recording's file stem."""
        return self.audio.stem


def read_manifest(path: str | Path) -> list[Entry]:
    """Read a JSONL manifest.

    Raises
    ------
    ValueError
        When a line is not JSON or lacks a required key (a harness error).
    """
    path = Path(path)
    entries = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{lineno}: not JSON ({exc.msg})") from None
        missing = [k for k in REQUIRED if k not in d]
        if missing:
            raise ValueError(f"{path}:{lineno}: missing {', '.join(missing)}")
        entries.append(
            Entry(
                audio=(path.parent / d["audio"]).resolve(),
                rttm=(path.parent / d["rttm"]).resolve(),
                n_speakers=int(d["n_speakers"]),
                split=str(d["split"]),
                description=str(d["description"]),
                extra={k: v for k, v in d.items() if k not in REQUIRED},
            )
        )
    return entries


def write_manifest(path: str | Path, rows: list[dict[str, Any]]) -> Path:
    """Write rows (dicts with the required keys; paths relative to the manifest folder) as JSONL."""
    path = Path(path)
    for row in rows:
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise ValueError(f"manifest row lacks {', '.join(missing)}")
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path

"""The result of analysing one conversation, and its file format ``listenkit.session/1``.

The format is the contract of ``DEFINITIONS.md``: ``schema``, ``audio``, ``speakers``, ``segments``
(the talkspurts), ``events``, ``metrics``, ``feedback``. Extra keys are allowed and kept.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import SessionFileError
from .fileio import atomic_write_text
from .timeline import Segment, format_rttm

SCHEMA = "listenkit.session/1"


@dataclass
class SpeakerSummary:
    """One speaker of a session.

    Attributes
    ----------
    id : str
        Stable id within the session (``"S1"``, ``"S2"`` ... in order of first speech).
    label : str or None
        ``"you"`` for the enrolled voice when known, else None.
    talk_time_s : float
        Total length of the speaker's talkspurts, seconds.
    share : float
        talk_time_s / sum of all talk times, 0..1.
    """

    id: str
    label: str | None
    talk_time_s: float
    share: float


@dataclass
class Event:
    """A conversation event found by the rules of DEFINITIONS.md.

    ``type`` is one of ``"interruption"``, ``"backchannel"``, ``"handover"``, ``"silence"``.
    ``by`` / ``of`` are speaker ids (None for silences); ``successful`` only for interruptions.
    """

    type: str
    start: float
    end: float
    by: str | None = None
    of: str | None = None
    successful: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: keys that do not apply to the type are left out."""
        d: dict[str, Any] = {"type": self.type, "start": round(self.start, 3), "end": round(self.end, 3)}
        if self.by is not None:
            d["by"] = self.by
        if self.of is not None:
            d["of"] = self.of
        if self.successful is not None:
            d["successful"] = self.successful
        return d


@dataclass
class Session:
    """Everything listenkit found in one conversation."""

    source: str
    duration_s: float
    sample_rate: int
    speakers: list[SpeakerSummary] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    feedback: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def uri(self) -> str:
        """The audio file's stem, used as RTTM uri."""
        return Path(self.source).stem or "audio"

    def label_of(self, speaker_id: str) -> str:
        """How to call a speaker in text: ``"you"`` when enrolled, else the id."""
        for spk in self.speakers:
            if spk.id == speaker_id and spk.label:
                return spk.label
        return speaker_id

    def to_dict(self) -> dict[str, Any]:
        """The ``listenkit.session/1`` JSON object."""
        d: dict[str, Any] = {
            "schema": SCHEMA,
            "audio": {
                "source": self.source,
                "duration_s": round(self.duration_s, 3),
                "sample_rate": self.sample_rate,
            },
            "speakers": [
                {**asdict(s), "talk_time_s": round(s.talk_time_s, 3), "share": round(s.share, 4)}
                for s in self.speakers
            ],
            "segments": [
                {"start": round(s.start, 3), "end": round(s.end, 3), "speaker": s.speaker} for s in self.segments
            ],
            "events": [e.to_dict() for e in self.events],
            "metrics": self.metrics,
            "feedback": list(self.feedback),
        }
        for key, value in self.extra.items():
            d.setdefault(key, value)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "session") -> "Session":
        """Rebuild a session from its JSON object.

        Raises
        ------
        SessionFileError
            When the schema is not ``listenkit.session/1`` or a required part is malformed.
        """
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            found = d.get("schema") if isinstance(d, dict) else type(d).__name__
            raise SessionFileError(f"{source}: not a listenkit session file (schema {found!r}, expected {SCHEMA!r})")
        try:
            audio = d["audio"]
            speakers = [
                SpeakerSummary(str(s["id"]), s.get("label"), float(s["talk_time_s"]), float(s["share"]))
                for s in d["speakers"]
            ]
            segments = [Segment(float(s["start"]), float(s["end"]), str(s["speaker"])) for s in d["segments"]]
            events = [
                Event(
                    str(e["type"]),
                    float(e["start"]),
                    float(e["end"]),
                    e.get("by"),
                    e.get("of"),
                    e.get("successful"),
                )
                for e in d["events"]
            ]
            known = {"schema", "audio", "speakers", "segments", "events", "metrics", "feedback"}
            return cls(
                source=str(audio["source"]),
                duration_s=float(audio["duration_s"]),
                sample_rate=int(audio["sample_rate"]),
                speakers=speakers,
                segments=segments,
                events=events,
                metrics=dict(d.get("metrics") or {}),
                feedback=[str(x) for x in d.get("feedback") or []],
                extra={k: v for k, v in d.items() if k not in known},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SessionFileError(f"{source}: damaged session file ({type(exc).__name__}: {exc})") from None

    def to_json(self) -> str:
        """The session file text (UTF-8 JSON, indented)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def write_json(self, path: str | Path) -> Path:
        """Write the session file atomically, readable by the user only."""
        return atomic_write_text(path, self.to_json())

    def write_rttm(self, path: str | Path) -> Path:
        """Write the talkspurts as RTTM (uri = the audio file's stem), atomically."""
        return atomic_write_text(path, format_rttm(self.segments, self.uri))


def load_session(path: str | Path) -> Session:
    """Read a ``listenkit.session/1`` JSON file.

    Raises
    ------
    SessionFileError
        Missing, unreadable, not JSON, or not a session file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SessionFileError(f"{path}: is a folder, not a session file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionFileError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SessionFileError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return Session.from_dict(data, source=str(path))

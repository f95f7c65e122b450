"""listenkit: hear how the talking was shared in a conversation, on your own machine.

Public API::

    from listenkit import analyze_file
    session = analyze_file("talk.flac")          # a Session
    session.write_json("talk.json")

``analyze(source)`` runs the same streaming pipeline on any :class:`~listenkit.sources.Source`
(a file, an array, a microphone).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import ListenkitError
from .params import AnalysisParams, Rules
from .session import Session, load_session
from .timeline import Segment

__all__ = [
    "AnalysisParams",
    "ListenkitError",
    "Rules",
    "Segment",
    "Session",
    "analyze",
    "analyze_file",
    "load_session",
]


def __getattr__(name: str):  # lazy: keep `import listenkit` light
    if name in ("analyze", "analyze_file"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)

"""Finishing sessions that a crash or a power cut left in a journal.

``listenkit recover`` (and the start of every ``listenkit live``) looks for journals no running session
holds, finalizes each one exactly as the live session would have been finalized (the journal holds the
:class:`~listenkit.pipeline.Analyzer`'s rows, the input of its ``finalize``), writes the session as JSON
next to the journal, saves it in the history, repairs the header of its ``--record`` WAV if there was
one, and removes the journal. A file that is not a journal is left where it is and reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..params import DEFAULT_PARAMS, DEFAULT_RULES, AnalysisParams, Rules
from ..pipeline import Analyzer, VoiceMatcher
from ..session import Session
from ..delivery import Delivery, deliver
from .journal import JournalContents, leftover_journals, read_journal
from .recorder import repair_wav_header


class _JournalAnalyzer(Analyzer):
    """An :class:`Analyzer` whose stored rows come from a journal instead of audio."""

    def __init__(self, contents: JournalContents, *, params: AnalysisParams, rules: Rules) -> None:
        h = contents.header
        num = h.get("num_speakers")
        super().__init__(
            int(h.get("sample_rate") or 16000), name=str(h.get("source") or "microphone"), params=params, rules=rules,
            num_speakers=int(num) if num else None,
        )
        self._journal_rows = contents.rows
        self._journal_speech = contents.speech
        self._journal_loose = contents.loose
        self._journal_elapsed = contents.elapsed_s

    @property
    def elapsed_s(self) -> float:
        return self._journal_elapsed

    def finish(self) -> None:
        """Nothing to flush: the journal holds finished rows."""

    def frames(self) -> tuple[np.ndarray, np.ndarray]:
        return self._journal_rows, self._journal_speech

    def loose_speech(self) -> np.ndarray:
        return self._journal_loose


def finalize_journal(
    contents: JournalContents,
    *,
    voice: VoiceMatcher | None = None,
    params: AnalysisParams = DEFAULT_PARAMS,
    rules: Rules = DEFAULT_RULES,
) -> Session:
    """The session a journal holds, finalized by :meth:`Analyzer.finalize` (the live path's own code)."""
    session = _JournalAnalyzer(contents, params=params, rules=rules).finalize(voice=voice)
    h = contents.header
    facts = {"recovered_from": contents.path.name, "started_at": h.get("started_at"),
             "capture_rate": h.get("sample_rate"), "journal_cut_short": contents.damaged_tail}
    if h.get("record"):
        facts["recording"] = h["record"]
    session.extra["live"] = facts
    return session


@dataclass
class Recovered:
    """One journal turned into a session.

    Attributes
    ----------
    journal : Path
        The journal (now removed).
    session : Session
    delivery : Delivery
        The JSON written next to the journal, and the history id.
    """

    journal: Path
    session: Session
    delivery: Delivery


def recover_journal(path: Path, *, save: bool = True, voice: VoiceMatcher | None = None) -> Recovered:
    """Finalize one journal, write ``<journal>.json`` beside it, save to the history, remove the journal.

    The session is saved in the history when ``save`` is True and the session that wrote the journal
    was not run with ``--no-save`` (its header says).

    Raises
    ------
    SessionFileError
        When the file is not a readable journal (it is left in place).
    OutputError
        When the JSON cannot be written (the journal is kept).
    """
    contents = read_journal(path)
    session = finalize_journal(contents, voice=voice)
    record = contents.header.get("record")
    if record and Path(record).is_file():
        repair_wav_header(record)
    keep = save and bool(contents.header.get("save", True))  # the interrupted run's own --no-save holds
    delivery = deliver(session, json_path=path.with_suffix(".json"), save=keep)
    path.unlink(missing_ok=True)
    return Recovered(path, session, delivery)


def recover_all(*, save: bool = True, voice: VoiceMatcher | None = None, folder: Path | None = None) -> tuple[list[Recovered], list[str]]:
    """Recover every leftover journal.

    Returns
    -------
    (recovered, problems)
        The sessions recovered, and one message per journal that could not be (left in place).
    """
    from ..errors import ListenkitError

    recovered: list[Recovered] = []
    problems: list[str] = []
    for path in leftover_journals(folder):
        try:
            recovered.append(recover_journal(path, save=save, voice=voice))
        except ListenkitError as exc:
            problems.append(str(exc))
    return recovered, problems

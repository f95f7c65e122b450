"""Exceptions that listenkit raises for problems a user can fix.

Every exception here carries a complete, one-line message meant for the user. The CLI prints it on
stderr and exits with code 2; library callers can catch :class:`ListenkitError`.
"""

from __future__ import annotations


class ListenkitError(Exception):
    """Root of listenkit's user-facing errors; ``str(err)`` is one line for the user."""


class AudioInputError(ListenkitError, ValueError):
    """An audio file (or stream) cannot be read: missing, empty, not audio, truncated, NaN samples."""


class SessionFileError(ListenkitError, ValueError):
    """A session file (JSON) is missing, damaged or of an unknown schema."""


class OutputError(ListenkitError, OSError):
    """An output file (JSON, RTTM, chart, report) cannot be written."""


class DeviceError(ListenkitError, RuntimeError):
    """A microphone / PortAudio problem during live capture."""


class ProfileError(ListenkitError, ValueError):
    """A voice profile is missing, damaged or of an unknown version."""


class HistoryError(ListenkitError, RuntimeError):
    """The session history database cannot be opened or is damaged."""

"""Streaming sample-rate conversion to the analysis rate (16 kHz).

Built on python-soxr's ``ResampleStream`` (the SoX resampler, "HQ" quality: pass band to 91 % of the
lower Nyquist frequency, stop-band attenuation above 100 dB). Its output does not depend on how the
input is cut into blocks, and after :meth:`Resampler.flush` the total output length is
``round(n_in * out_rate / in_rate)`` samples; ``tests/test_resample.py`` checks both.
"""

from __future__ import annotations

import numpy as np
import soxr

#: The analysis sample rate, Hz.
ANALYSIS_RATE = 16000
#: soxr quality preset.
QUALITY = "HQ"


class Resampler:
    """Convert a mono stream from ``in_rate`` to ``out_rate``, block by block.

    Parameters
    ----------
    in_rate : int
        Sample rate of the input, Hz (positive).
    out_rate : int
        Sample rate of the output, Hz (positive); 16 kHz by default.

    Notes
    -----
    State in, state out: feed blocks of any length to :meth:`process`, then call :meth:`flush` once at
    the end for the samples still inside the filter. The concatenated outputs equal those of one
    :meth:`process` call on the whole signal followed by :meth:`flush`. When both rates are equal the
    samples pass through unchanged. After :meth:`flush` the object is ready for a new stream.
    """

    def __init__(self, in_rate: int, out_rate: int = ANALYSIS_RATE) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} and {out_rate}")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self._stream = (
            None
            if self.in_rate == self.out_rate
            else soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="float32", quality=QUALITY)
        )

    @property
    def identity(self) -> bool:
        """True when the rates are equal and samples pass through unchanged."""
        return self._stream is None

    def process(self, x: np.ndarray) -> np.ndarray:
        """Resample the next block.

        Parameters
        ----------
        x : ndarray, shape (n,)
            The next ``n`` input samples (any float dtype; converted to float32).

        Returns
        -------
        ndarray of float32, shape (m,)
            The output samples that are ready; ``m`` varies with the filter delay.
        """
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"Resampler takes 1-D blocks, got shape {x.shape}")
        if self._stream is None:
            return x.copy()
        if len(x) == 0:
            return np.zeros(0, dtype=np.float32)
        return np.asarray(self._stream.resample_chunk(x), dtype=np.float32)

    def flush(self) -> np.ndarray:
        """The output still held in the filter at the end of the stream (float32, shape (m,)).

        Resets the state, so the next :meth:`process` call starts a new stream.
        """
        if self._stream is None:
            return np.zeros(0, dtype=np.float32)
        out = np.asarray(self._stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True), dtype=np.float32)
        self._stream.clear()
        return out

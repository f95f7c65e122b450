"""Compact per-frame rows kept for the second look at a recording (no audio).

Rows are appended block by block into a buffer that doubles when full, so appending is cheap and the
memory is one array per kind: 41 float16 features + 2 bools (the voice detector's two levels) per 10 ms frame
in the pipeline, about 30 MB for an hour.
"""

from __future__ import annotations

import numpy as np


class GrowingArray:
    """An append-only 2-D array (rows of fixed width) with amortised O(1) appends (capacity grows by half).

    Parameters
    ----------
    width : int
        Columns per row.
    dtype : numpy dtype
    """

    def __init__(self, width: int, dtype: np.dtype | type = np.float32, *, capacity: int = 4096) -> None:
        self._data = np.zeros((capacity, width), dtype=dtype)
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def append(self, rows: np.ndarray) -> None:
        """Append rows, shape (n, width)."""
        rows = np.asarray(rows).reshape(-1, self._data.shape[1])
        need = self._n + rows.shape[0]
        if need > self._data.shape[0]:
            cap = max(need, self._data.shape[0] + self._data.shape[0] // 2)  # x1.5: less slack than doubling
            grown = np.zeros((cap, self._data.shape[1]), dtype=self._data.dtype)
            grown[: self._n] = self._data[: self._n]
            self._data = grown
        self._data[self._n : need] = rows
        self._n = need

    def view(self) -> np.ndarray:
        """The rows so far (a view: do not keep it across appends)."""
        return self._data[: self._n]

"""Who is talking right now: a cheap online speaker assignment for the live view.

The live view needs a speaker for every stretch of speech within a second or so, long before the
batch diarization (:func:`listenkit.diarization.diarize`, run by :meth:`Analyzer.finalize` at the end)
can look at the whole conversation. :class:`OnlineSpeakers` reads the rows the
:class:`~listenkit.pipeline.Analyzer` stores anyway (log-mel powers and the speech decision of every
10 ms frame) and does what diart's incremental clustering does, on cheap features:

1. **Windows.** Speech frames are gathered into windows of about ``window_frames`` speech frames; a
   pause of ``break_frames`` or more always closes a window (a new voice often starts after a pause).
   A window is described by the mean of its MFCC c1..c19 (the cepstra of
   :mod:`listenkit.diarization.frames`), 19 numbers. (Adding their spread, as the batch clustering
   does, separated speakers less well here: the ratio of between-speaker to within-speaker distance
   fell by about 10 % on the development recordings.)
2. **Scale.** Differences between windows are divided by the running standard deviation of c1..c19
   over all speech frames so far, so the "new speaker" distance does not depend on the microphone.
3. **Assignment.** A closed window joins the nearest speaker centroid (root-mean-square scaled
   distance). A window farther than ``new_speaker_distance`` from every centroid is held as a
   candidate (and given to its nearest speaker meanwhile); a second such window close to the first
   starts a new speaker with both (at most ``max_speakers``): one odd window - a laugh, a door - is
   not yet a voice. Windows shorter than ``min_frames`` join the nearest centroid without moving it.
   The window still open gets a provisional speaker, so talk shows up at once.
4. **Refinement.** Until the first anchor, every ``recluster_every_s`` seconds of audio (and at least
   a tenth of the audio so far), a few k-means (Lloyd) passes over all windows from the current
   centroids move windows that joined the wrong speaker early on; two speakers whose centroids came
   closer than ``merge_distance`` become one, a "speaker" with only a few seconds of speech long ago
   joins its nearest neighbour, and the frames of windows that changed are relabelled.
5. **Anchoring** (:meth:`OnlineSpeakers.anchor`). Now and then the live runner has the batch
   diarization look at everything heard so far, in a background thread; its answer replaces the
   labels of the past, and the centroids are rebuilt from it, so new windows are assigned against
   the speakers the batch analysis found.

Speaker numbers are kept through refinements and anchors wherever the speakers match (Hungarian
assignment on shared frames), so the bars on screen keep their names.

How good, on 8 simulated dev conversations (``calibration.simulate``, seed 7, 90-240 s, 2-4 voices;
largest error of any speaker's talk share against the reference, mean over conversations): online
assignment alone 11.6 pp at the end (19.1 pp without the two-window confirmation), with anchoring
10.7 pp after one minute and 11.7 pp at the end; the batch analysis of the whole recordings, 7.5 pp.
The thresholds were chosen on those and on the corpus conversations (share error 1-3 pp on the long
two-person ones; the 30 s AMI excerpts are hard for both). Good enough for a balance bar; the report
at the end comes from the batch analysis.

Cost: a DCT of 40 numbers per frame and a few vector operations per window; the anchoring's batch
runs cost about 1 % of a core on average (measured in ``calibration/bench_live.py``). Memory: one
byte per frame plus 19 floats per window.
"""

from __future__ import annotations

import numpy as np
from ..diarization.frames import N_CEPS
from ..features import FRAME_S, N_MELS, mfcc
from ..framestore import GrowingArray

#: label of frames without speech
NO_SPEAKER = -1
#: label of speech frames not given a speaker yet (the first fraction of a second of the first voice)
UNASSIGNED = -2


class OnlineSpeakers:
    """Incremental speaker assignment of the speech frames, for the live view.

    Parameters
    ----------
    window_frames : int
        Speech frames (10 ms) per window.
    break_frames : int
        A pause of this many frames or more closes the window.
    min_frames : int
        Windows with fewer speech frames do not move centroids or start speakers.
    new_speaker_distance : float
        Scaled RMS distance beyond which a window starts a new speaker (dimensionless).
    max_speakers : int
        Most speakers told apart (1-6).
    merge_distance : float
        Speakers whose centroids come closer than this at a refinement are merged.
    min_speaker_s, stale_s : float
        At a refinement, a speaker with less speech than ``min_speaker_s`` (seconds), none of it in the
        last ``stale_s`` seconds, joins its nearest speaker (a stray window, not a voice).
    recluster_every_s : float
        Least audio between two refinements, seconds (0 turns refinement off).
    confirm_new : bool
        A new speaker needs two windows far from every speaker and close to each other (the first one
        is given to its nearest speaker until the second confirms it).
    present_s : float
        Talk (seconds) that makes a speaker "clearly present" in a stretch, for declining anchors.
    """

    def __init__(
        self,
        *,
        window_frames: int = 150,
        break_frames: int = 30,
        min_frames: int = 40,
        new_speaker_distance: float = 0.5,
        max_speakers: int = 6,
        merge_distance: float = 0.35,
        min_speaker_s: float = 3.0,
        stale_s: float = 10.0,
        recluster_every_s: float = 20.0,
        confirm_new: bool = True,
        present_s: float = 15.0,
    ) -> None:
        if not 1 <= max_speakers <= 6:
            raise ValueError("max_speakers must be between 1 and 6")
        self.window_frames = int(window_frames)
        self.break_frames = int(break_frames)
        self.min_frames = int(min_frames)
        self.new_speaker_distance = float(new_speaker_distance)
        self.max_speakers = int(max_speakers)
        self.merge_distance = float(merge_distance)
        self.min_speaker_frames = int(round(min_speaker_s / FRAME_S))
        self.stale_frames = int(round(stale_s / FRAME_S))
        self.recluster_every_s = float(recluster_every_s)
        self.confirm_new = bool(confirm_new)
        self.present_s = float(present_s)
        self._labels = GrowingArray(1, np.int8, capacity=1 << 14)
        self._done = 0  # frames read so far
        # running sums of c1..c19 over all speech frames (for the scale)
        self._n_speech = 0
        self._sum = np.zeros(N_CEPS)
        self._sumsq = np.zeros(N_CEPS)
        # the open window: its speech frames' sums and frame range
        self._w_n = 0
        self._w_sum = np.zeros(N_CEPS)
        self._w_first = -1
        self._w_last = -1
        self._gap = 0  # non-speech frames since the last speech frame
        # closed windows
        self._win_bounds = GrowingArray(2, np.int64, capacity=1024)  # [first, last + 1) frames
        self._win_vectors = GrowingArray(N_CEPS, np.float64, capacity=1024)
        self._win_labels = GrowingArray(1, np.int16, capacity=1024)
        self._win_speech = GrowingArray(1, np.int32, capacity=1024)  # speech frames per window
        # speakers
        self._centroid_sum: list[np.ndarray] = []
        self._centroid_n: list[int] = []
        self._last_label = NO_SPEAKER
        self._candidate: tuple[int, np.ndarray] | None = None  # a far window waiting for a second one
        self._next_recluster = self.recluster_every_s / FRAME_S
        self.anchored_frames = 0  # frames decided by the last anchor (batch diarization)
        self.generation = 0  # bumped whenever speaker numbers may have changed

    # ------------------------------------------------------------------ reading
    @property
    def frames_done(self) -> int:
        """Frames read so far (10 ms each)."""
        return self._done

    @property
    def n_speakers(self) -> int:
        """Speakers found so far."""
        return len(self._centroid_n)

    @property
    def n_windows(self) -> int:
        """Closed windows so far."""
        return len(self._win_bounds)

    def labels(self) -> np.ndarray:
        """Speaker index of every frame read so far, int8, shape (n,).

        :data:`NO_SPEAKER` for frames without speech, :data:`UNASSIGNED` for speech not yet given a speaker.
        """
        return self._labels.view()[:, 0]

    def activity(self) -> np.ndarray:
        """Who speaks in each frame read so far, bool, shape (n_frames, n_speakers).

        Before the first window closes, the first voice's frames already count as speaker 0.
        """
        lab = self.labels()
        k = max(self.n_speakers, 1 if np.any(lab == 0) else 0)
        return lab[:, None] == np.arange(k, dtype=np.int8)[None, :] if k else np.zeros((lab.size, 0), bool)

    def current_speaker(self, *, within_frames: int = 30) -> int | None:
        """Speaker of the latest speech when it ended at most ``within_frames`` frames ago, else None."""
        if self._gap >= within_frames or self._done == 0:
            return None
        lab = int(self._labels.view()[-1 - self._gap, 0]) if self._gap < self._done else NO_SPEAKER
        return None if lab < 0 else lab

    # ------------------------------------------------------------------ updating
    def update(self, rows: np.ndarray, speech: np.ndarray) -> None:
        """Read the frames added since the last call.

        Parameters
        ----------
        rows : ndarray, shape (n, 41)
            Every row stored so far (:meth:`Analyzer.frames`); only rows from :attr:`frames_done` on are read.
        speech : ndarray of bool, shape (n,)
            The speech decision of every frame so far.
        """
        n = min(len(rows), len(speech))
        if n <= self._done:
            return
        start = self._done
        sp = np.asarray(speech[start:n], dtype=bool)
        ceps = mfcc(rows[start:n, :N_MELS], N_CEPS + 1)[:, 1:].astype(np.float64)
        self._labels.append(np.where(sp, UNASSIGNED, NO_SPEAKER).astype(np.int8)[:, None])
        sc = ceps[sp]
        if sc.size:
            self._n_speech += sc.shape[0]
            self._sum += sc.sum(axis=0)
            self._sumsq += (sc * sc).sum(axis=0)
        # walk the runs of speech / non-speech
        edges = np.flatnonzero(np.diff(sp.astype(np.int8))) + 1
        bounds = np.concatenate(([0], edges, [sp.size]))
        for a, b in zip(bounds[:-1], bounds[1:]):
            if not sp[a]:
                self._gap += b - a
                if self._gap >= self.break_frames and self._w_n:
                    self._close_window()
                continue
            self._gap = 0
            pos = a
            while pos < b:
                take = min(b - pos, self.window_frames - self._w_n)
                part = ceps[pos : pos + take]
                if self._w_n == 0:
                    self._w_first = start + pos
                self._w_n += take
                self._w_sum += part.sum(axis=0)
                self._w_last = start + pos + take
                pos += take
                if self._w_n >= self.window_frames:
                    self._close_window()
        self._done = n
        self._label_open_window()
        if self.recluster_every_s > 0 and self._done >= self._next_recluster:
            self.refine()
            self._next_recluster = self._done + max(self.recluster_every_s / FRAME_S, 0.1 * self._done)

    def refine(self, *, passes: int = 3) -> None:
        """Re-assign every closed window to its nearest centroid (k-means passes), merge close speakers,
        and relabel the frames of windows whose speaker changed."""
        n, k_count = self.n_windows, self.n_speakers
        if n < 2 or k_count < 2 or self.anchored_frames > 0 or 0 in self._centroid_n:
            return  # after an anchor the batch analysis decides the past
        vec = self._win_vectors.view()
        old = self._win_labels.view()[:, 0].astype(int)
        scale = self._scale()
        cents = np.array([s / c for s, c in zip(self._centroid_sum, self._centroid_n)])
        lab = old.copy()
        for _ in range(passes):
            for k in range(k_count):
                if np.any(lab == k):
                    cents[k] = vec[lab == k].mean(axis=0)
            new = np.argmin(_rms_distances(vec, cents, scale), axis=1)
            if np.array_equal(new, lab):
                break
            lab = new
        remap = self._merge_map(vec, lab, cents, scale)
        lab = remap[lab]
        labels = self._labels.view()[:, 0]
        spoken = labels >= 0
        labels[spoken] = remap[labels[spoken]]
        bounds = self._win_bounds.view()
        for i in np.flatnonzero(lab != remap[old]):
            self._set_labels(int(bounds[i, 0]), int(bounds[i, 1]), int(lab[i]))
        self._win_labels.view()[:, 0] = lab
        k_new = int(remap.max()) + 1
        self._centroid_sum = [vec[lab == k].sum(axis=0) for k in range(k_new)]
        self._centroid_n = [int(np.sum(lab == k)) for k in range(k_new)]
        if self._last_label >= 0:
            self._last_label = int(remap[self._last_label])
        self.generation += 1

    def anchor(self, activity: np.ndarray, *, start: int = 0) -> bool:
        """Adopt a batch diarization of a stretch of frames as the truth about that stretch.

        The labels of frames ``start .. start + n - 1`` are replaced by ``activity`` (the first active
        column where several are), the windows inside take the majority speaker of their frames, and
        the centroids are rebuilt from all windows, so that what comes next is assigned against the
        speakers the batch analysis found. Speaker numbers are kept where the new speakers overlap the
        old ones most (Hungarian assignment on shared frames); speakers heard outside the stretch stay.

        An anchor that finds fewer speakers than the online labels show clearly present in the same
        stretch (at least :attr:`present_s` seconds of talk each) is declined: the batch speaker count
        is least sure on a conversation cut short (it was seen to fold two voices into one for one cut
        and to find both again a few seconds later), and folding two voices costs the bar more than
        leaving an extra one.

        Parameters
        ----------
        activity : ndarray of bool, shape (n, k)
            :attr:`listenkit.diarization.Diarization.activity` of the stretch (frames already read).
        start : int
            Frame index of the stretch's first frame.

        Returns
        -------
        bool
            True when the anchor was taken.
        """
        from scipy.optimize import linear_sum_assignment

        act = np.asarray(activity, dtype=bool)
        end = min(start + act.shape[0], self._done)
        if end <= start:
            return False
        act = act[: end - start]
        labels = self._labels.view()[:, 0]
        old = labels[start:end].astype(int)
        k_new, k_old = act.shape[1], self.n_speakers
        talk = np.bincount(old[old >= 0], minlength=max(k_old, 1))
        if k_new < int(np.sum(talk >= self.present_s / FRAME_S)):
            return False
        anchored = np.where(act.any(axis=1), np.argmax(act, axis=1), NO_SPEAKER) if k_new else np.full(end - start, NO_SPEAKER)
        # which old number each new speaker takes
        overlap = np.zeros((k_new, max(k_old, 1)))
        both = (anchored >= 0) & (old >= 0)
        np.add.at(overlap, (anchored[both], old[both]), 1.0)
        target: dict[int, int] = {}
        if k_new:
            for r, c in zip(*linear_sum_assignment(-overlap)):
                if overlap[r, c] > 0:
                    target[int(r)] = int(c)
        outside = np.concatenate((labels[:start], labels[end : self._done]))
        elsewhere = set(int(x) for x in np.unique(outside) if x >= 0)
        keep_old = sorted(set(target.values()) | elsewhere)
        fresh = iter(range(max(keep_old, default=-1) + 1, 10_000))
        for r in range(k_new):
            if r not in target:
                target[r] = next(fresh)
        used = sorted(set(target.values()) | set(keep_old))
        compact = {k: i for i, k in enumerate(used)}
        # relabel: the stretch from the anchor, the rest through the new numbering
        speechy = labels[start:end] != NO_SPEAKER
        stretch = np.full(end - start, NO_SPEAKER, dtype=np.int8)
        has = anchored >= 0
        if has.any():
            lut = np.array([compact[target[r]] for r in range(k_new)], dtype=np.int8)
            stretch[has] = lut[anchored[has]]
        stretch[speechy & ~has] = UNASSIGNED
        renumber = np.full(max(k_old, 1), NO_SPEAKER, dtype=np.int8)
        for k in range(k_old):
            renumber[k] = compact.get(k, NO_SPEAKER)
        for part in (labels[:start], labels[end : self._done]):
            spoken = part >= 0
            part[spoken] = renumber[part[spoken]]
        labels[start:end] = stretch
        last = int(labels[self._done - 1 - self._gap]) if self._gap < self._done else NO_SPEAKER
        self._last_label = last if last >= 0 else NO_SPEAKER
        # windows and centroids
        bounds = self._win_bounds.view()
        wl = self._win_labels.view()[:, 0]
        for i in range(len(wl)):
            a, b = int(bounds[i, 0]), int(bounds[i, 1])
            if start <= a and b <= end:
                seg = stretch[a - start : b - start]
                seg = seg[seg >= 0]
                wl[i] = int(np.bincount(seg).argmax()) if seg.size else NO_SPEAKER
            elif wl[i] >= 0:
                wl[i] = renumber[wl[i]] if wl[i] < len(renumber) else NO_SPEAKER
        vec = self._win_vectors.view()
        k_count = len(used)
        self._centroid_sum = [vec[wl == k].sum(axis=0) if np.any(wl == k) else np.zeros(N_CEPS) for k in range(k_count)]
        self._centroid_n = [int(np.sum(wl == k)) for k in range(k_count)]
        self._candidate = None
        self.anchored_frames = end
        self.generation += 1
        return True

    def _merge_map(self, vec: np.ndarray, lab: np.ndarray, cents: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """Old speaker number -> new number after merging speakers closer than ``merge_distance``.

        Speakers left without windows go to the nearest remaining one; numbers stay in order and compact.
        """
        k_count = cents.shape[0]
        groups = {k: [k] for k in range(k_count) if np.any(lab == k)}
        speech = self._win_speech.view()[:, 0]
        ends = self._win_bounds.view()[:, 1]
        while len(groups) > 1:
            keys = sorted(groups)
            members = [np.isin(lab, groups[k]) for k in keys]
            gc = np.array([vec[m].mean(axis=0) for m in members])
            d = _rms_distances(gc, gc, scale) + np.eye(len(keys)) * 1e9
            i, j = np.unravel_index(int(np.argmin(d)), d.shape)
            if d[i, j] >= self.merge_distance:
                # a speaker with little speech, none of it recent, is more likely a stray window
                small = [
                    q for q, m in enumerate(members)
                    if speech[m].sum() < self.min_speaker_frames and ends[m].max() < self._done - self.stale_frames
                ]
                if not small:
                    break
                i = min(small, key=lambda q: speech[members[q]].sum())
                j = int(np.argmin(d[i]))
            keep, gone = keys[min(i, j)], keys[max(i, j)]
            groups[keep] += groups.pop(gone)
        target = {m: k for k, members in groups.items() for m in members}
        keys = sorted(groups)
        for k in range(k_count):
            if k not in target:
                d = _rms_distances(cents[k : k + 1], cents[keys], scale)[0]
                target[k] = keys[int(np.argmin(d))]
        compact = {k: i for i, k in enumerate(keys)}
        return np.array([compact[target[k]] for k in range(k_count)], dtype=np.int8)

    # ------------------------------------------------------------------ internals
    def _scale(self) -> np.ndarray:
        """Standard deviation of c1..c19 over the speech so far, shape (19,)."""
        if self._n_speech < 2:
            return np.ones(N_CEPS)
        mu = self._sum / self._n_speech
        return np.sqrt(np.maximum(self._sumsq / self._n_speech - mu * mu, 1e-6))

    def _window_vector(self) -> np.ndarray:
        """Mean c1..c19 of the open window, shape (19,)."""
        return self._w_sum / self._w_n

    def _nearest(self, vector: np.ndarray) -> tuple[int, float]:
        """Nearest speaker and its scaled RMS distance (``(NO_SPEAKER, inf)`` without speakers)."""
        if not any(self._centroid_n):
            return NO_SPEAKER, float("inf")
        counts = np.array(self._centroid_n, dtype=float)
        cents = np.array(self._centroid_sum) / np.maximum(counts, 1.0)[:, None]
        d = _rms_distances(vector[None, :], cents, self._scale())[0]
        d[counts == 0] = np.inf  # a speaker known only from frames outside windows has no centroid
        k = int(np.argmin(d))
        return k, float(d[k])

    def _close_window(self) -> None:
        vector = self._window_vector()
        k, dist = self._nearest(vector)
        full = self._w_n >= self.min_frames
        far = k == NO_SPEAKER or (dist > self.new_speaker_distance and self.n_speakers < self.max_speakers)
        new_speaker = False
        if full and far:
            cand = self._candidate
            if k == NO_SPEAKER or not self.confirm_new:
                new_speaker = True
            elif cand is not None and _rms_distances(vector[None, :], cand[1][None, :], self._scale())[0, 0] <= self.new_speaker_distance:
                new_speaker = True  # a second window like the first stranger: a new voice
            else:
                self._candidate = (self.n_windows, vector.copy())  # one odd window is not yet a voice
        if new_speaker:
            self._centroid_sum.append(vector.copy())
            self._centroid_n.append(1)
            k = self.n_speakers - 1
            cand, self._candidate = self._candidate, None
            if cand is not None and k != 0:
                self._adopt_candidate(cand[0], k)
        elif full:
            self._centroid_sum[k] += vector
            self._centroid_n[k] += 1
        elif k == NO_SPEAKER:
            k = self._last_label if self._last_label != NO_SPEAKER else NO_SPEAKER
        if full:
            self._win_bounds.append(np.array([[self._w_first, self._w_last]]))
            self._win_vectors.append(vector[None, :])
            self._win_labels.append(np.array([[k]]))
            self._win_speech.append(np.array([[self._w_n]]))
        self._set_labels(self._w_first, self._w_last, k)
        if k != NO_SPEAKER:
            self._last_label = k
        self._w_n = 0
        self._w_sum[:] = 0.0

    def _adopt_candidate(self, index: int, k: int) -> None:
        """Move the earlier odd window ``index`` (confirmed now) to the new speaker ``k``."""
        if index >= self.n_windows:
            return
        wl = self._win_labels.view()
        old = int(wl[index, 0])
        if old == k:
            return
        vec = self._win_vectors.view()[index]
        if 0 <= old < self.n_speakers and self._centroid_n[old] > 0:
            self._centroid_sum[old] -= vec
            self._centroid_n[old] -= 1
        self._centroid_sum[k] += vec
        self._centroid_n[k] += 1
        wl[index, 0] = k
        a, b = self._win_bounds.view()[index]
        self._set_labels(int(a), int(b), k)

    def _label_open_window(self) -> None:
        """Give the open window's frames the speaker it looks like so far (or the last speaker)."""
        if self._w_n == 0:
            return
        k = NO_SPEAKER
        if self._w_n >= self.min_frames // 2:
            k, _ = self._nearest(self._window_vector())
        if k == NO_SPEAKER:
            k = self._last_label
        if k == NO_SPEAKER and self._w_n >= self.min_frames // 2:
            k = 0  # the very first voice: speaker 0 is created when this window closes
        self._set_labels(self._w_first, self._w_last, k)

    def _set_labels(self, first: int, last: int, k: int) -> None:
        """Label the speech frames in ``[first, last)`` as speaker ``k`` (pause frames stay unlabelled)."""
        if first < 0 or last <= first:
            return
        seg = self._labels.view()[first:last, 0]
        seg[seg != NO_SPEAKER] = UNASSIGNED if k == NO_SPEAKER else k


def _rms_distances(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Scaled root-mean-square distance between rows of ``a`` (m, d) and ``b`` (k, d): shape (m, k)."""
    diff = (a[:, None, :] - b[None, :, :]) / scale
    return np.sqrt(np.mean(diff * diff, axis=2))

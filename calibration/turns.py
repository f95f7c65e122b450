"""Turn-taking: where each speaker's phrases, backchannels and interjections go on the timeline.

The builder walks through a conversation turn by turn. A turn is a run of the floor holder's phrases
separated by short pauses; its target length is log-normal with a median proportional to the holder's
target talk share. Between phrases the holder sometimes pauses for a long silence, or pauses while a
listener says "mm-hm". Inside long phrases listeners sometimes backchannel (overlapped, short) or
interject (1.2-2.5 s, while the holder talks on: an unsuccessful interruption). The floor then passes
by a gap (around 0.25 s), an overlapping handover (0.05-0.4 s overlap), a successful interruption (the
next speaker starts 0.9-3 s before the holder's end and the holder stops 0.6-1.5 s later), or a long
silence (3-8 s). All times inside are integer samples at 16 kHz.

The simulator does not decide which events happened: the reference events are computed from the
reference segments by the rules of DEFINITIONS.md, so they are exact whatever the builder intended.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .voices import HOP, SR, Phrase, cut_phrase, frame_levels_db


@dataclass(frozen=True)
class Style:
    """Turn-taking probabilities and timings (seconds); one conversation scales some of them."""

    turn_median_s: float = 4.0  # median turn length of a speaker with share 1 / n_speakers
    turn_sigma: float = 0.6  # log-normal spread of turn lengths
    share_exponent: float = 1.6  # turn medians go as share ** this (listeners' mm-hms even shares out)
    gap_mean_s: float = 0.25  # floor-transfer gap, normal(mean, sd), clipped to [0.02, 1.5]
    gap_sd_s: float = 0.2
    p_overlap_handover: float = 0.18  # per floor change: next speaker starts 0.05-0.4 s early
    p_interrupt: float = 0.15  # per floor change: successful interruption (x liveliness)
    p_long_gap: float = 0.04  # per floor change: 3-8 s of silence
    p_pause_silence: float = 0.02  # per pause inside a turn: 3-8 s of silence
    p_bc_pause: float = 0.10  # per pause inside a turn: a listener's backchannel in it (x bc rate)
    p_bc_overlap: float = 0.35  # per phrase >= 1.8 s: an overlapped backchannel (x bc rate)
    p_interjection: float = 0.12  # per phrase >= 3.5 s: an unsuccessful interruption (x liveliness)


@dataclass
class Placement:
    """One piece of clean speech put on the timeline.

    Attributes
    ----------
    speaker : int
        Index of the speaker in the conversation.
    start : int
        Sample where the piece's audio starts.
    phrase : Phrase
        The audio and its speech runs (relative to ``start``).
    kind : str
        What the builder meant it to be: ``"phrase"``, ``"backchannel"`` or ``"interjection"``.
    """

    speaker: int
    start: int
    phrase: Phrase
    kind: str

    @property
    def end(self) -> int:
        """One past the last audio sample."""
        return self.start + len(self.phrase.audio)

    @property
    def speech_start(self) -> int:
        """Absolute first speech sample."""
        return self.start + self.phrase.speech_start

    @property
    def speech_end(self) -> int:
        """Absolute end of the last speech run."""
        return self.start + self.phrase.speech_end

    def runs(self) -> list[tuple[int, int]]:
        """Absolute speech runs, samples."""
        return [(self.start + s, self.start + e) for s, e in self.phrase.runs]


def _s(seconds: float) -> int:
    return int(round(seconds * SR))


def trim_speech(p: Phrase, want: int, *, tolerance: int = _s(0.3)) -> Phrase:
    """Cut a phrase so its speech lasts about ``want`` samples, at its quietest frame near that point.

    Returns the phrase unchanged when it is not clearly longer than ``want``.
    """
    s0 = p.speech_start
    if p.speech_end - s0 <= want + _s(0.5):
        return p
    lo = s0 + max(_s(0.3), want - tolerance)
    db = frame_levels_db(p.audio[lo : s0 + want + tolerance])
    if db.size == 0:
        return p
    cut = lo + int(np.argmin(db)) * HOP + HOP // 2
    out = cut_phrase(p, 0, cut)
    return out if out.runs else p


class TurnBuilder:
    """Builds the placements of one conversation.

    Parameters
    ----------
    rng : numpy.random.Generator
        The conversation's generator (all randomness comes from it).
    phrases : list of tuple of Phrase
        Per speaker, the phrases to draw turns from (cycled in shuffled order, reshuffled when used up).
    units : list of list of Phrase
        Per speaker, backchannel-sized pieces (0.3-0.9 s of speech).
    shares : ndarray, shape (n_speakers,)
        Target talk shares, summing to 1.
    style : Style
        Probabilities and timings.
    bc_rate, liveliness : float
        This conversation's multipliers of the backchannel and interruption probabilities.
    """

    def __init__(
        self,
        rng: np.random.Generator,
        phrases: list[tuple[Phrase, ...]],
        units: list[list[Phrase]],
        shares: np.ndarray,
        style: Style = Style(),
        *,
        bc_rate: float = 1.0,
        liveliness: float = 1.0,
    ) -> None:
        self.rng = rng
        self.phrases = phrases
        self.units = units
        self.shares = np.asarray(shares, dtype=float)
        self.style = style
        self.bc_rate = bc_rate
        self.liveliness = liveliness
        self.n = len(phrases)
        self.placements: list[Placement] = []
        self._busy: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        self._order = [list(rng.permutation(len(p))) for p in phrases]
        self._unit_order = [list(rng.permutation(len(u))) for u in units]

    # ----------------------------------------------------------------------------------------- pools
    def _next_phrase(self, k: int, min_speech: int = 0) -> Phrase | None:
        """The next phrase of speaker ``k`` in its shuffled cycle (with at least ``min_speech`` samples)."""
        pool = self.phrases[k]
        for _ in range(2):
            order = self._order[k]
            for i, idx in enumerate(order):
                p = pool[idx]
                if p.speech_end - p.speech_start >= min_speech:
                    del order[i]
                    if not order:
                        self._order[k] = list(self.rng.permutation(len(pool)))
                    return p
            self._order[k] = list(self.rng.permutation(len(pool)))
        return None

    def _next_unit(self, k: int) -> Phrase | None:
        if not self.units[k]:
            return None
        if not self._unit_order[k]:
            self._unit_order[k] = list(self.rng.permutation(len(self.units[k])))
        return self.units[k][self._unit_order[k].pop()]

    def _interjection(self, k: int) -> Phrase | None:
        """1.2-2.5 s of speaker ``k``'s speech: a phrase cut at a quiet point."""
        want = _s(self.rng.uniform(1.2, 2.5))
        p = self._next_phrase(k, min_speech=_s(1.2))
        if p is None:
            return None
        p = trim_speech(p, want)
        return p if p.speech_end - p.speech_start <= _s(3.0) else None

    # ------------------------------------------------------------------------------------- placement
    def _free(self, k: int, a: int, b: int, margin: int) -> bool:
        return all(e + margin <= a or b + margin <= s for s, e in self._busy[k])

    def _place(self, k: int, speech_at: int, p: Phrase, kind: str) -> Placement:
        pl = Placement(k, speech_at - p.speech_start, p, kind)
        if pl.start < 0:
            pl = Placement(k, 0, p, kind)
        self.placements.append(pl)
        self._busy[k].append((pl.speech_start, pl.speech_end))
        return pl

    def _listener(self, holder: int) -> int:
        others = [k for k in range(self.n) if k != holder]
        w = self.shares[others] / self.shares[others].sum()
        return int(others[self.rng.choice(len(others), p=w)])

    def _pause(self, holder: int, after: int) -> int:
        """Length of a pause inside ``holder``'s turn starting at ``after``; may place a listener's mm-hm."""
        st, rng = self.style, self.rng
        r = rng.random()
        if r < st.p_pause_silence:
            return _s(rng.uniform(3.0, 8.0))
        if r < st.p_pause_silence + st.p_bc_pause * self.bc_rate and self.n > 1:
            k = self._listener(holder)
            u = self._next_unit(k)
            if u is not None:
                g1, g2 = _s(rng.uniform(0.2, 0.8)), _s(rng.uniform(0.2, 0.8))
                length = u.speech_end - u.speech_start
                at = after + g1
                if self._free(k, at, at + length, _s(0.3)):
                    self._place(k, at, u, "backchannel")
                    return g1 + length + g2
        if rng.random() < 0.5:
            return _s(rng.uniform(0.05, 0.18))
        return _s(rng.uniform(0.2, 0.7))

    def _overlaps_inside(self, holder: int, turn: list[Placement]) -> None:
        """Listeners' overlapped backchannels and interjections inside the holder's phrases."""
        if self.n < 2:
            return  # a monologue: nobody to listen
        st, rng = self.style, self.rng
        for pl in turn:
            a, b = pl.speech_start, pl.speech_end
            k = self._listener(holder)
            if b - a >= _s(1.8) and rng.random() < st.p_bc_overlap * self.bc_rate:
                u = self._next_unit(k)
                if u is None:
                    continue
                length = u.speech_end - u.speech_start
                lo, hi = a + _s(0.4), b - _s(0.25) - length
                if hi > lo:
                    at = int(rng.integers(lo, hi))
                    if self._free(k, at, at + length, _s(0.3)):
                        self._place(k, at, u, "backchannel")
            elif b - a >= _s(3.5) and rng.random() < st.p_interjection * self.liveliness:
                p = self._interjection(k)
                if p is None:
                    continue
                length = p.speech_end - p.speech_start
                lo, hi = a + _s(0.5), b - _s(0.4) - length
                if hi > lo:
                    at = int(rng.integers(lo, hi))
                    if self._free(k, at, at + length, _s(0.3)):
                        self._place(k, at, p, "interjection")

    # ------------------------------------------------------------------------------------------ turns
    def _turn(self, holder: int, first: Placement | None, at: int) -> list[Placement]:
        """Place one turn of ``holder`` whose speech starts at ``at`` (or with ``first`` already placed)."""
        st, rng = self.style, self.rng
        weight = self.shares**st.share_exponent
        median = st.turn_median_s * self.n * weight[holder] / weight.sum()
        target = _s(float(np.clip(rng.lognormal(np.log(median), st.turn_sigma), 0.6, 30.0)))
        turn: list[Placement] = []
        start = at if first is None else first.speech_start
        if first is not None:
            turn.append(first)
            at = first.speech_end + self._pause(holder, first.speech_end)
        while not turn or turn[-1].speech_end - start < target:
            p = self._next_phrase(holder)
            if p is None:
                break
            remaining = target - (at - start)
            if remaining >= _s(0.5):
                p = trim_speech(p, remaining)
            turn.append(self._place(holder, at, p, "phrase"))
            if turn[-1].speech_end - start >= target:
                break
            at = turn[-1].speech_end + self._pause(holder, turn[-1].speech_end)
        return turn

    def _hand_over(self, holder: int, nxt: int, turn: list[Placement]) -> Placement | None:
        """Decide how the floor passes from ``holder`` to ``nxt``; place ``nxt``'s first phrase."""
        st, rng = self.style, self.rng
        last = turn[-1]
        end = last.speech_end
        length = end - last.speech_start
        r = rng.random()
        p_int = st.p_interrupt * self.liveliness
        if r < p_int and length >= _s(2.0):
            overlap = _s(rng.uniform(0.9, min(3.0, length / SR - 0.5)))
            begin = end - overlap
            keep = _s(rng.uniform(0.6, min(1.5, overlap / SR - 0.2)))
            p = self._next_phrase(nxt, min_speech=keep + _s(0.6))
            if p is not None and self._free(nxt, begin, begin + p.speech_end - p.speech_start, _s(0.25)):
                idx = self.placements.index(last)
                cut = cut_phrase(last.phrase, 0, begin + keep - last.start)
                if cut.runs:
                    self.placements[idx] = turn[-1] = Placement(holder, last.start, cut, "phrase")
                    self._busy[holder][-1] = (turn[-1].speech_start, turn[-1].speech_end)
                    return self._place(nxt, begin, p, "phrase")
        if r < p_int + st.p_overlap_handover:
            begin = end - _s(rng.uniform(0.05, 0.4))
        elif r < p_int + st.p_overlap_handover + st.p_long_gap:
            begin = end + _s(rng.uniform(3.0, 8.0))
        else:
            begin = end + _s(float(np.clip(rng.normal(st.gap_mean_s, st.gap_sd_s), 0.02, 1.5)))
        p = self._next_phrase(nxt)
        if p is None:
            return None
        length = p.speech_end - p.speech_start
        while not self._free(nxt, begin, begin + length, _s(0.25)):
            begin = max(e for s, e in self._busy[nxt]) + _s(0.3)
        return self._place(nxt, begin, p, "phrase")

    def build(self, duration_s: float) -> list[Placement]:
        """Place turns until the conversation reaches ``duration_s`` seconds.

        Returns
        -------
        list of Placement
            Sorted by start.
        """
        rng = self.rng
        holder = int(rng.choice(self.n, p=self.shares))
        at = _s(rng.uniform(0.5, 1.5))
        first: Placement | None = None
        stop = _s(duration_s)
        while True:
            turn = self._turn(holder, first, at)
            if not turn:
                break
            nxt = self._listener(holder) if self.n > 1 else holder
            first = None
            if turn[-1].speech_end < stop:
                first = self._hand_over(holder, nxt, turn)
            self._overlaps_inside(holder, turn)
            if first is None:
                break
            holder = nxt
        self.placements.sort(key=lambda p: (p.start, p.speaker))
        return self.placements

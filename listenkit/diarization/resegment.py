"""Frame-level re-segmentation: the best state path through per-frame log-likelihoods (Viterbi).

States are single speakers and, optionally, pairs of speakers talking at once. Staying in a state is
free; changing state costs a penalty in nats, which sets how short a turn can be and still be believed.
"""

from __future__ import annotations

import numpy as np


def viterbi(loglik: np.ndarray, switch_penalty: np.ndarray | float, *, state_penalty: np.ndarray | None = None) -> np.ndarray:
    """Most likely state sequence when every change of state costs ``switch_penalty``.

    Parameters
    ----------
    loglik : ndarray, shape (n_frames, n_states)
        Log-likelihood of each frame in each state, nats.
    switch_penalty : float or ndarray, shape (n_frames,)
        Cost of changing state between frame t-1 and t (element 0 unused), nats. A per-frame array lets
        changes be cheaper across pauses.
    state_penalty : ndarray, shape (n_states,), optional
        Constant cost per frame of being in a state (e.g. the overlap states), nats.

    Returns
    -------
    ndarray of int, shape (n_frames,)
    """
    ll = np.asarray(loglik, dtype=np.float64)
    n, k = ll.shape
    if n == 0:
        return np.zeros(0, dtype=int)
    if state_penalty is not None:
        ll = ll - np.asarray(state_penalty, dtype=np.float64)[None, :]
    pen = np.broadcast_to(np.asarray(switch_penalty, dtype=np.float64), (n,))
    stay_back = np.empty((n, k), dtype=bool)  # True: came from the same state
    best_prev = np.empty(n, dtype=np.int64)
    delta = ll[0].copy()
    rows = ll.tolist()  # python floats are faster than numpy scalars for small k
    if k <= 4:
        d = delta.tolist()
        for t in range(1, n):
            m = max(d)
            j = d.index(m)
            best_prev[t] = j
            sw = m - pen[t]
            r = rows[t]
            nd = []
            for s in range(k):
                if d[s] >= sw:
                    nd.append(d[s] + r[s])
                    stay_back[t, s] = True
                else:
                    nd.append(sw + r[s])
                    stay_back[t, s] = False
            d = nd
        last = int(np.argmax(d))
    else:
        for t in range(1, n):
            j = int(delta.argmax())
            best_prev[t] = j
            sw = delta[j] - pen[t]
            stay = delta >= sw
            stay_back[t] = stay
            delta = np.where(stay, delta, sw) + ll[t]
        last = int(delta.argmax())
    path = np.empty(n, dtype=int)
    path[-1] = last
    for t in range(n - 1, 0, -1):
        s = path[t]
        path[t - 1] = s if stay_back[t, s] else best_prev[t]
    return path

"""Calibration: from a judge's raw output (and cheap features) to P(supported).

``Calibrator`` follows scikit-learn: parameters in ``__init__``, ``fit(X, y) -> self``, learned
state in attributes ending in ``_``, plus ``to_json``/``from_json`` so a fitted calibrator ships
next to its model or in a user's config.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

__all__ = ["Calibrator"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class Calibrator:
    """Logistic regression over named features, with a decision threshold.

    Unfitted, it passes the judge's ``supported`` probability through unchanged, so any judge
    works before anyone has calibrated it.
    """

    def __init__(self, features: Sequence[str] = ("supported",), l2: float = 1.0, threshold: float = 0.5):
        self.features = tuple(features)
        self.l2 = l2
        self.threshold = threshold

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X: Sequence[Mapping[str, float]], y: Sequence[int]) -> "Calibrator":
        A = self._matrix(X)
        t = np.asarray(y, dtype=float)
        if A.shape[0] == 0 or len(set(t.tolist())) < 2:
            raise ValueError("calibration needs labelled examples of both classes")
        self.mean_ = A.mean(axis=0)
        self.scale_ = A.std(axis=0) + 1e-6
        Z = np.hstack([(A - self.mean_) / self.scale_, np.ones((A.shape[0], 1))])
        w = np.zeros(Z.shape[1])
        reg = np.full(Z.shape[1], self.l2)
        reg[-1] = 0.0
        for _ in range(100):  # Newton-Raphson (IRLS); converges in a handful of steps
            p = _sigmoid(Z @ w)
            grad = Z.T @ (p - t) + reg * w
            H = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(reg + 1e-9)
            step = np.linalg.solve(H, grad)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        self.coef_ = w[:-1]
        self.intercept_ = float(w[-1])
        return self

    def fit_threshold(self, scores: Sequence[float], y: Sequence[int]) -> "Calibrator":
        """Pick the threshold with the best balanced accuracy on (scores, labels)."""
        s = np.asarray(scores, dtype=float)
        t = np.asarray(y, dtype=int)
        best, best_thr = -1.0, self.threshold
        for thr in np.unique(np.round(s, 4)):
            pred = s >= thr
            pos, neg = t == 1, t == 0
            if not pos.any() or not neg.any():
                break
            bacc = 0.5 * (pred[pos].mean() + (~pred[neg]).mean())
            if bacc > best:
                best, best_thr = bacc, float(thr)
        self.threshold = best_thr
        return self

    @property
    def fitted(self) -> bool:
        return hasattr(self, "coef_")

    # -- scoring -------------------------------------------------------------------------
    def score(self, features: Mapping[str, float]) -> float:
        return float(self.score_many([features])[0])

    def score_many(self, X: Sequence[Mapping[str, float]]) -> np.ndarray:
        if not self.fitted:
            return np.array([float(x.get("supported", 0.0)) for x in X])
        A = self._matrix(X)
        return _sigmoid(((A - self.mean_) / self.scale_) @ self.coef_ + self.intercept_)

    def _matrix(self, X: Sequence[Mapping[str, float]]) -> np.ndarray:
        try:
            return np.array([[float(x[f]) for f in self.features] for x in X], dtype=float).reshape(
                len(X), len(self.features)
            )
        except KeyError as exc:
            raise ValueError(f"feature {exc.args[0]!r} is missing; calibrator uses {list(self.features)}") from exc

    # -- persistence ---------------------------------------------------------------------
    def to_json(self) -> str:
        state = {"features": list(self.features), "l2": self.l2, "threshold": self.threshold}
        if self.fitted:
            state.update(
                mean=self.mean_.tolist(), scale=self.scale_.tolist(), coef=self.coef_.tolist(), intercept=self.intercept_
            )
        return json.dumps(state, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Calibrator":
        state = json.loads(text)
        cal = cls(state["features"], l2=state.get("l2", 1.0), threshold=state.get("threshold", 0.5))
        if "coef" in state:
            cal.mean_ = np.asarray(state["mean"], dtype=float)
            cal.scale_ = np.asarray(state["scale"], dtype=float)
            cal.coef_ = np.asarray(state["coef"], dtype=float)
            cal.intercept_ = float(state["intercept"])
        if not math.isfinite(cal.threshold):
            raise ValueError("calibration threshold must be finite")
        return cal

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "Calibrator":
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

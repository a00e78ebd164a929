"""Calibration: from a judge's raw output (and cheap features) to P(supported).

``Calibrator`` follows scikit-learn: parameters in ``__init__``, ``fit(X, y) -> self``, learned
state in attributes ending in ``_``, plus ``to_json``/``from_json`` so a fitted calibrator ships
next to its model or in a user's config. A calibrator also carries the judge's **vetoes**
(:class:`Vetoes`): how confident a judge must be before its word keeps a claim below the
threshold whatever the combiner says; they are read with the judge's probabilities, so they
belong to the combiner fitted for that judge (:func:`verisum.evaluation.fit_vetoes`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Mapping, Sequence

import numpy as np

__all__ = ["Calibrator", "DEFAULT_VETOES", "Vetoes", "best_threshold"]


@dataclass(frozen=True, slots=True)
class Vetoes:
    """The judge's confident word is not overruled by the combiner: a premise read as a
    contradiction with P above ``contradicted``, or a best premise read as unsupported with P
    above ``unsupported``, keeps the claim below the threshold (:func:`verisum.checker.veto_score`).
    None switches a veto off.

    The defaults are the fast model's first measurement (leave-one-dataset-out, eight sets: the
    contradiction veto +0.5 mean balanced accuracy, the unsupported one +0.0, kept for an
    invented clause whose every word is in the source); a calibrator fitted on summaries
    chooses its own (:func:`verisum.evaluation.fit_vetoes`), and one saved without them (older
    files, ``verisum calibrate --threshold-only``) reads with these.
    """

    contradicted: float | None = 0.5
    unsupported: float | None = 0.8

    def to_dict(self) -> dict[str, float | None]:
        return {"contradicted": self.contradicted, "unsupported": self.unsupported}

    def __str__(self) -> str:
        def show(v: float | None) -> str:
            return "off" if v is None else f"{v:g}"

        return f"contradicted {show(self.contradicted)}, unsupported {show(self.unsupported)}"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Vetoes":
        def value(key: str) -> float | None:
            v = d.get(key, getattr(cls(), key))
            if v is None:
                return None
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"veto {key!r} must be a probability or null, not {v!r}")
            return float(v)

        return cls(contradicted=value("contradicted"), unsupported=value("unsupported"))


#: The vetoes of a calibrator that has none of its own.
DEFAULT_VETOES: Final = Vetoes()


def _mapping(v: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise ValueError(f"{what} must be an object, not {type(v).__name__}")
    return v


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def best_threshold(
    scores: Sequence[float] | np.ndarray,
    y: Sequence[int],
    groups: Sequence[str] | None = None,
    *,
    default: float = 0.5,
    objective: str = "mean",
) -> tuple[float, float]:
    """The threshold with the best balanced accuracy on (scores, labels) and that accuracy:
    what ``verisum calibrate --threshold-only`` picks.

    Candidates are the scores rounded to 4 decimals, plus one above the highest; the lowest
    candidate that reaches the best accuracy wins. With ``groups`` the accuracy is the mean of
    the groups' balanced accuracies (a group with one class counts through that class's recall).
    Sorted counts make it O(n log n), so a report over 100,000 results picks it at once.
    """
    s = np.asarray(scores, dtype=float)
    t = np.asarray(y, dtype=int)
    if len(s) == 0 or not ((t == 1).any() and (t == 0).any()):
        raise ValueError("fitting a threshold needs labelled examples of both classes")
    g = np.asarray(groups if groups is not None else ["all"] * len(s), dtype=object)
    cands = np.unique(np.round(s, 4))
    cands = np.concatenate([cands, [cands[-1] + 1e-4]])
    accs = []
    for name in sorted(set(g.tolist())):
        m = g == name
        pos, neg = np.sort(s[m & (t == 1)]), np.sort(s[m & (t == 0)])
        parts = []
        if len(pos):  # share of faithful examples at or above the threshold
            parts.append((len(pos) - np.searchsorted(pos, cands, side="left")) / len(pos))
        if len(neg):  # share of unfaithful examples below it
            parts.append(np.searchsorted(neg, cands, side="left") / len(neg))
        accs.append(np.mean(parts, axis=0))
    if objective not in ("mean", "worst"):
        raise ValueError(f"objective must be 'mean' or 'worst', not {objective!r}")
    bacc = np.mean(accs, axis=0)
    # "worst": the lowest group first, the mean only to break its ties
    key = np.min(accs, axis=0) + 1e-6 * bacc if objective == "worst" else bacc
    value = np.min(accs, axis=0) if objective == "worst" else bacc
    best, best_i = -1.0, -1
    for i, acc in enumerate(key.tolist()):
        if acc > best + 1e-12:
            best, best_i = acc, i
    return (float(cands[best_i]), float(value[best_i])) if best_i >= 0 else (default, float("nan"))


class Calibrator:
    """Logistic regression over named features, with a decision threshold.

    Unfitted, it passes the judge's ``supported`` probability through unchanged, so any judge
    works before anyone has calibrated it. ``premises``: the premise rule its features were
    read under when it was fitted (``verisum train combiner`` records it), or None.
    ``vetoes``: the judge's vetoes read with it (:class:`Vetoes`; a fit on summaries sets them).
    """

    def __init__(self, features: Sequence[str] = ("supported",), l2: float = 1.0, threshold: float = 0.5,
                 premises: str | None = None, vetoes: Vetoes = DEFAULT_VETOES):
        self.features = tuple(features)
        self.l2 = l2
        self.threshold = threshold
        self.premises = premises
        self.vetoes = vetoes

    # -- fitting -------------------------------------------------------------------------
    def fit(
        self,
        X: Sequence[Mapping[str, float]],
        y: Sequence[int],
        sample_weight: Sequence[float] | np.ndarray | None = None,
    ) -> "Calibrator":
        """Fit the logistic regression (L2-penalised, features standardised).

        ``sample_weight`` lets a fit balance datasets and classes; the penalty is relative to
        the total weight, so ``l2`` means the same whatever the weights sum to.
        """
        A = self._matrix(X)
        t = np.asarray(y, dtype=float)
        if A.shape[0] == 0 or len(set(t.tolist())) < 2:
            raise ValueError("calibration needs labelled examples of both classes")
        sw = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        sw = sw * (len(t) / max(sw.sum(), 1e-12))
        self.mean_ = A.mean(axis=0)
        self.scale_ = A.std(axis=0) + 1e-6
        Z = np.hstack([(A - self.mean_) / self.scale_, np.ones((A.shape[0], 1))])
        w = np.zeros(Z.shape[1])
        reg = np.full(Z.shape[1], self.l2)
        reg[-1] = 0.0
        for _ in range(100):  # Newton-Raphson (IRLS); converges in a handful of steps
            p = _sigmoid(Z @ w)
            grad = Z.T @ (sw * (p - t)) + reg * w
            H = (Z * (sw * p * (1 - p))[:, None]).T @ Z + np.diag(reg + 1e-9)
            step = np.linalg.solve(H, grad)
            w -= step
            if np.abs(step).max() < 1e-8:
                break
        self.coef_ = w[:-1]
        self.intercept_ = float(w[-1])
        return self

    def fit_threshold(
        self,
        scores: Sequence[float] | np.ndarray,
        y: Sequence[int],
        groups: Sequence[str] | None = None,
        objective: str = "mean",
    ) -> "Calibrator":
        """Pick the threshold with the best balanced accuracy on (scores, labels).

        With ``groups`` (e.g. the dataset of each example) the threshold maximises the mean of
        the groups' balanced accuracies, so one large set does not decide it alone; groups with
        a single class count through the recall of that class.
        """
        self.threshold = best_threshold(scores, y, groups, default=self.threshold, objective=objective)[0]
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
        state: dict[str, Any] = {"features": list(self.features), "l2": self.l2, "threshold": self.threshold,
                                 "vetoes": self.vetoes.to_dict()}
        if self.premises is not None:
            state["premises"] = self.premises
        if self.fitted:
            state.update(
                mean=self.mean_.tolist(), scale=self.scale_.tolist(), coef=self.coef_.tolist(), intercept=self.intercept_
            )
        return json.dumps(state, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Calibrator":
        state = json.loads(text)
        cal = cls(state["features"], l2=state.get("l2", 1.0), threshold=state.get("threshold", 0.5),
                  premises=state.get("premises"), vetoes=Vetoes.from_dict(_mapping(state.get("vetoes") or {}, "vetoes")))
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

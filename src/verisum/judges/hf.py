"""The ``hf`` judge: any Hugging Face sequence-classification NLI or faithfulness model.

Needs the ``[hf]`` extra (transformers + torch), imported only when the judge loads. The
label mapping is read from the model's ``config.id2label``:

- 3-way NLI models ("entailment" / "neutral" / "contradiction", in any case, and variants such
  as "ENTAILMENT", "entails", "not_entailment") map to supported / unsupported / contradicted;
- 2-way faithfulness models ("consistent" / "inconsistent", "faithful" / "hallucinated",
  "factual" / "non-factual", ...) map to supported / unsupported;
- generic names ("LABEL_0", ...) say nothing, so ``label_map`` must give the mapping.

Each class's softmax probability goes to the label it maps to (two classes may share one).
When a pair is longer than ``max_length`` tokens it is cut (the evidence first) and the
judgement says ``truncated=True``; the pipeline reports it.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any, Mapping, Sequence

from ..errors import BackendError, BackendUnavailable, InputError
from .base import LABELS, Judgement, Pair

__all__ = ["HFJudge", "map_labels", "HF_INSTALL_HINT"]

HF_INSTALL_HINT = "pip install 'verisum[hf]'"

_SUPPORTED = {
    "entailment", "entail", "entails", "entailed", "supported", "support", "supports",
    "consistent", "faithful", "factual", "factually_consistent", "grounded", "correct",
}
_CONTRADICTED = {
    "contradiction", "contradict", "contradicts", "contradicted", "contradictory",
    "refutes", "refuted", "refute",
}
_UNSUPPORTED = {
    "neutral", "unsupported", "not_supported", "not_entailment", "non_entailment", "not_entailed",
    "notentailment", "nonentailment", "not_enough_info", "not_enough_information", "nei",
    "inconsistent", "not_consistent", "factually_inconsistent", "unfaithful", "not_faithful",
    "hallucinated", "hallucination", "non_factual", "nonfactual", "not_factual", "ungrounded",
    "incorrect", "unverifiable",
}
_GENERIC_RE = re.compile(r"^label_?\d+$")


def _norm(name: str) -> str:
    return "_".join(re.sub(r"[-\s]+", " ", str(name).strip().lower()).split())


def _verisum_label(value: str) -> str | None:
    key = _norm(value)
    if key in _SUPPORTED:
        return "supported"
    if key in _CONTRADICTED:
        return "contradicted"
    if key in _UNSUPPORTED:
        return "unsupported"
    return None


def map_labels(
    id2label: Mapping[int, str], label_map: Mapping[Any, str] | None = None, *, model: str = "the model"
) -> list[str]:
    """For each class index of the model, the verisum label it maps to.

    ``label_map`` keys are class indices (int or digit strings) or the model's label names;
    values are verisum labels (supported / contradicted / unsupported) or NLI names
    (entailment / contradiction / neutral). It overrides what the names say.
    Raises BackendUnavailable when some class cannot be mapped, or no class means supported.
    """
    n = len(id2label)
    if n < 2:
        raise BackendUnavailable(f"{model} has {n} output class(es); an NLI or faithfulness classifier has 2 or 3")
    names = {int(i): str(id2label[i]) for i in id2label}
    if sorted(names) != list(range(n)):
        raise BackendUnavailable(f"{model} has class indices {sorted(names)}; expected 0..{n - 1}")
    given: dict[int, str] = {}
    for key, value in (label_map or {}).items():
        target = _verisum_label(value) if isinstance(value, str) else None
        if target is None:
            raise InputError(f"label_map value {value!r} is not one of {', '.join(LABELS)} (or entailment/neutral/contradiction)")
        if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
            idx = int(key)
        else:
            matches = [i for i, name in names.items() if _norm(name) == _norm(str(key))]
            if not matches:
                raise InputError(f"label_map key {key!r} is neither a class index nor a label of {model} ({', '.join(names.values())})")
            idx = matches[0]
        if idx not in names:
            raise InputError(f"label_map key {key!r}: {model} has no class {idx}")
        given[idx] = target

    out: list[str] = []
    unknown: list[str] = []
    for i in range(n):
        target = given.get(i) or _verisum_label(names[i])
        if target is None:
            unknown.append(f"{i}={names[i]!r}")
            out.append("")
        else:
            out.append(target)
    if unknown:
        generic = all(_GENERIC_RE.match(_norm(names[i])) for i in range(n))
        why = "has only generic label names" if generic else "has labels verisum cannot map"
        raise BackendUnavailable(
            f"{model} {why} ({', '.join(unknown)}); give label_map, e.g. "
            '{"0": "entailment", "1": "neutral", "2": "contradiction"} (--label-map)'
        )
    if "supported" not in out:
        raise BackendUnavailable(f"no class of {model} means supported/entailment ({', '.join(names.values())}); give label_map")
    if len(set(out)) < 2:
        raise BackendUnavailable(f"every class of {model} maps to {out[0]}; give label_map")
    return out


def _looks_local(model: str) -> bool:
    """A path rather than a hub id ("org/name")."""
    return model.startswith((".", "/", "~")) or model.count("/") >= 2 or "\\" in model


class HFJudge:
    """Judges pairs with a Hugging Face sequence-classification model (NLI or faithfulness).

    model: a local folder (saved with save_pretrained) or a hub id such as
        "MoritzLaurer/DeBERTa-v3-base-mnli-fever-anli"; hub ids download only when the hub is
        reachable and HF_HUB_OFFLINE is not set.
    device: torch device, e.g. "cpu", "cuda", "cuda:1", "mps".
    max_length: tokens per (evidence, claim) pair; longer pairs are cut, evidence first, and
        reported as truncated. Capped by the model's own limit.
    batch_size: pairs per forward pass.
    label_map: class -> label, overriding config.id2label, e.g.
        {"0": "entailment", "1": "neutral", "2": "contradiction"} or
        {"LABEL_0": "supported", "LABEL_1": "unsupported"}; needed when the model's labels are
        generic (LABEL_0, LABEL_1, ...).
    trust_remote_code: allow the model folder's own Python code (off by default).
    local_files_only: never touch the network; default: True for a local folder, and otherwise
        whatever HF_HUB_OFFLINE says.
    """

    name = "hf"
    deterministic = True

    def __init__(
        self,
        model: str,
        device: str = "cpu",
        max_length: int = 512,
        batch_size: int = 16,
        label_map: Mapping[str, str] | None = None,
        trust_remote_code: bool = False,
        local_files_only: bool | None = None,
    ) -> None:
        if not model or not isinstance(model, str):
            raise InputError("the hf backend needs a model: a local folder or a hub id (--model)")
        if max_length < 8:
            raise InputError("max_length must be at least 8 tokens")
        if batch_size < 1:
            raise InputError("batch_size must be at least 1")
        self.model = model
        self.device = device
        self.max_length = max_length
        self.batch_size = batch_size
        self.label_map = dict(label_map) if label_map else None
        self.trust_remote_code = trust_remote_code
        self.local_files_only = local_files_only
        self._torch: Any = None
        self._tokenizer: Any = None
        self._model: Any = None
        self.labels_: list[str] | None = None
        self.max_length_: int | None = None

    def params(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "device": self.device,
            "max_length": self.max_length,
            "batch_size": self.batch_size,
            "label_map": self.label_map,
            "trust_remote_code": self.trust_remote_code,
            "local_files_only": self.local_files_only,
        }

    def load(self) -> "HFJudge":
        """Import transformers and load the tokenizer, model and label mapping (once)."""
        if self._model is not None:
            return self
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise BackendUnavailable(f"the hf backend needs transformers and torch: {HF_INSTALL_HINT} ({exc})") from exc

        path = os.path.expanduser(self.model)
        local = os.path.isdir(path)
        if not local and _looks_local(self.model):
            raise BackendUnavailable(f"model folder {self.model} does not exist")
        source = path if local else self.model
        offline = self.local_files_only if self.local_files_only is not None else (True if local else None)
        kwargs: dict[str, Any] = {"trust_remote_code": self.trust_remote_code}
        if offline is not None:
            kwargs["local_files_only"] = offline
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
            model = AutoModelForSequenceClassification.from_pretrained(source, **kwargs)
        except (OSError, ValueError, KeyError) as exc:
            where = f"model folder {path}" if local else f"model {self.model!r} (local cache or hub)"
            raise BackendUnavailable(
                f"cannot load {where} as a sequence-classification model: {type(exc).__name__}: {exc}"
            ) from exc
        labels = map_labels(model.config.id2label, self.label_map, model=self.model)
        try:
            model.to(self.device)
        except (RuntimeError, ValueError, AssertionError) as exc:
            raise BackendUnavailable(f"cannot move the model to device {self.device!r}: {exc}") from exc
        model.eval()
        limits = [self.max_length]
        tmax = getattr(tokenizer, "model_max_length", None)
        if isinstance(tmax, int) and 0 < tmax < 1_000_000:
            limits.append(tmax)
        pmax = getattr(model.config, "max_position_embeddings", None)
        if isinstance(pmax, int) and pmax > 0:
            limits.append(pmax)
        self._torch, self._tokenizer, self._model = torch, tokenizer, model
        self.labels_ = labels
        self.max_length_ = min(limits)
        return self

    def judge(self, pairs: Sequence[Pair]) -> list[Judgement]:
        pairs = list(pairs)
        if not pairs:
            return []
        self.load()
        out: list[Judgement] = []
        any_cut = False
        for i in range(0, len(pairs), self.batch_size):
            batch = pairs[i : i + self.batch_size]
            try:
                judgements = self._judge_batch(batch)
            except BackendError:
                raise
            except (RuntimeError, ValueError, IndexError) as exc:
                raise BackendError(f"the hf model {self.model} failed on a batch: {type(exc).__name__}: {exc}") from exc
            any_cut = any_cut or any(j.truncated for j in judgements)
            out.extend(judgements)
        if any_cut:
            warnings.warn(
                f"some evidence was cut to {self.max_length_} tokens for {self.model}; those claims are marked truncated",
                stacklevel=2,
            )
        return out

    def _judge_batch(self, batch: Sequence[Pair]) -> list[Judgement]:
        torch, tok, model = self._torch, self._tokenizer, self._model
        assert self.max_length_ is not None and self.labels_ is not None  # set by load()
        premises = [p.premise for p in batch]
        hypotheses = [p.hypothesis for p in batch]
        full = tok(premises, hypotheses, truncation=False, padding=False, verbose=False)["input_ids"]
        cut = [len(ids) > self.max_length_ for ids in full]
        enc = tok(
            premises,
            hypotheses,
            truncation="longest_first",
            max_length=self.max_length_,
            padding=True,
            return_tensors="pt",
        )
        enc = {k: v.to(self.device) for k, v in enc.items()}
        with torch.inference_mode():
            logits = model(**enc).logits.float()
        probs = torch.softmax(logits, dim=-1).cpu().tolist()
        out = []
        for row, was_cut in zip(probs, cut):
            agg = dict.fromkeys(LABELS, 0.0)
            for p, label in zip(row, self.labels_):
                agg[label] += float(p)
            total = sum(agg.values())
            agg = {k: min(max(v / total, 0.0), 1.0) for k, v in agg.items()}
            out.append(Judgement(
                supported=agg["supported"],
                contradicted=agg["contradicted"],
                unsupported=agg["unsupported"],
                truncated=was_cut,
            ))
        return out

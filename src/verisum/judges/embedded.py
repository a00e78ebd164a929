"""The ``embedded`` judge: the cross-encoders shipped in ``verisum/models/`` (``fast``: the MiniLM
in ``nli-minilm/``, the default; ``accurate``: the MPNet of ``nli-mpnet/``, once it ships).

Runs with onnxruntime and tokenizers only (no torch). The model folder holds ``model.onnx``
(inputs ``input_ids`` / ``attention_mask``, and ``token_type_ids`` where the model reads them,
int64; output ``logits`` ``[batch, 3]``), ``tokenizer.json`` and ``config.json`` (``"labels"``:
the order of the logits, ``"max_length"``, ``"pad_id"``). A pair is encoded as the tokenizer's
pair template says (``[CLS] premise [SEP] claim [SEP]`` for MiniLM, ``<s> premise </s></s>
claim </s>`` for MPNet); when it is longer
than ``max_length`` tokens the premise is cut (never the claim) and the judgement says
``truncated=True``.

The judge brings two companions the Checker picks up: :meth:`retriever` (embedding + lexical
hybrid over the whole source) and :meth:`calibrator` (the combiner fitted on the bench-dev
training part for the retriever's sentence encoder). The encoder is ``"static"`` by default:
static token vectors distilled from all-MiniLM-L6-v2 (``verisum/models/static-minilm``), so
every source sentence is embedded in microseconds, with ``verisum/models/combiner.json``;
``"minilm"`` runs all-MiniLM-L6-v2 itself on a lexical shortlist of sentences, with
``verisum/models/combiner-minilm.json``. The static one is many times faster and, with the
word alignment it also gives, scores higher on the validation part (``verisum/models/README.md``).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError, ModelError
from ..resources import MODELS_DIR
from .base import LABELS, PREMISE_RULES, Judgement, Pair

__all__ = ["EmbeddedJudge", "DEFAULT_MODEL_DIR", "COMBINER_PATH", "COMBINERS", "ENCODERS", "MODEL_NAMES",
           "model_fingerprint"]

_MODELS = MODELS_DIR
#: The packaged judges by name: ``fast`` the 6-layer MiniLM, ``accurate`` the 12-layer MPNet
#: (shipped once its training meets the bar in its model card; until then the name says so).
MODEL_NAMES = {"fast": "nli-minilm", "accurate": "nli-mpnet"}
DEFAULT_MODEL_DIR = _MODELS / MODEL_NAMES["fast"]
COMBINER_PATH = _MODELS / "combiner.json"
#: The combiner fitted on each sentence encoder's features (their cosines differ in scale).
COMBINERS = {"static": COMBINER_PATH, "minilm": _MODELS / "combiner-minilm.json"}
ENCODERS = tuple(COMBINERS)
_ALIASES = {
    "entailment": "supported", "supported": "supported",
    "contradiction": "contradicted", "contradicted": "contradicted",
    "neutral": "unsupported", "unsupported": "unsupported", "not_in_source": "unsupported",
}


def model_fingerprint(folder: Path) -> str:
    """sha256 of ``model.onnx``: a combiner that uses the judge's output records the model it
    was fitted with, so a retrained model with a stale combiner is noticed."""
    import hashlib

    h = hashlib.sha256()
    with open(folder / "model.onnx", "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _declared_premises(config: Mapping[str, Any], folder: Path) -> str | None:
    """The premise rule the protocol chose for a model (its config's ``"premises"``), or None;
    a value that is no rule is a ModelError."""
    premises = config.get("premises")
    if premises is not None and premises not in PREMISE_RULES:
        raise ModelError(f"{folder / 'config.json'} has premises {premises!r}; "
                         f"expected one of {', '.join(PREMISE_RULES)}")
    return premises


class EmbeddedJudge:
    """The offline default judge.

    model_dir: a packaged model by name (``fast``, ``accurate``: :data:`MODEL_NAMES`) or a folder
        with model.onnx, tokenizer.json, config.json; default the packaged ``fast`` model.
    max_length: tokens per (premise, claim) pair; default the model's config value (else 256).
    batch_size: pairs per onnxruntime call (pairs are sorted by length first). The default, 1,
        keeps every judgement independent of the others: the int8 model quantises activations
        per call, so a pair batched with others can score a little differently (about 0.01),
        and a summary checked alone must score as it does in a batch.
    intra_op_num_threads: onnxruntime threads per model call; default 1 (a single pair is too
        small to spread over cores; parallel calls use them better, see ``workers``).
    workers: model calls run in parallel (threads; onnxruntime releases the GIL); default the
        number of CPUs. A pair's score does not depend on it.
    encoder: the retriever's sentence encoder, "static" (default, fast) or "minilm".
    combiner: path of the combiner JSON :meth:`calibrator` returns; default the one shipped
        beside the model (``combiner.json`` in ``model_dir``), else the packaged one for
        ``encoder``.

    A model's ``config.json`` may name the premise rule the protocol chose for it (``"premises":
    "joined"``: one call per claim); a Checker given no rule of its own then uses it.
    """

    name = "embedded"
    deterministic = True
    #: The premise rule of the loaded model's config ("premises"), or None (the Checker's default).
    premises: str | None = None

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        max_length: int | None = None,
        batch_size: int = 1,
        intra_op_num_threads: int | None = None,
        workers: int | None = None,
        encoder: str = "static",
        combiner: str | Path | None = None,
    ) -> None:
        if encoder not in ENCODERS:
            raise InputError(f"unknown encoder {encoder!r}; choose one of {', '.join(ENCODERS)}")
        self.model_dir = model_dir
        self.max_length = max_length
        self.batch_size = batch_size
        self.intra_op_num_threads = intra_op_num_threads
        self.workers = workers
        self.encoder_name = encoder
        self.combiner = combiner
        self._session: Any = None
        self._tokenizer: Any = None
        self._labels: tuple[str, ...] = LABELS
        self._max_length: int = max_length or 256
        self._pad_id = 0
        self._fault_head = False
        self._encoder: Any = None
        self._retriever: Any = None
        self._pool: Any = None
        self._lock = threading.Lock()

    # A judge pickles as its configuration (a batch worker, a Ray actor, builds its own model).
    def __getstate__(self) -> dict[str, Any]:
        return {"model_dir": self.model_dir, "max_length": self.max_length, "batch_size": self.batch_size,
                "intra_op_num_threads": self.intra_op_num_threads, "workers": self.workers,
                "encoder": self.encoder_name, "combiner": self.combiner}

    def __setstate__(self, state: dict[str, Any]) -> None:
        model_dir = state.pop("model_dir")
        self.__init__(model_dir, **state)  # type: ignore[misc]

    # -- loading -------------------------------------------------------------------------
    @property
    def packaged(self) -> str | None:
        """The packaged model's name (``fast``, ``accurate``), or None for a folder of the user's."""
        if self.model_dir is None:
            return "fast"
        return str(self.model_dir) if str(self.model_dir) in MODEL_NAMES else None

    @property
    def path(self) -> Path:
        name = self.packaged
        return _MODELS / MODEL_NAMES[name] if name is not None else Path(self.model_dir)  # type: ignore[arg-type]

    def load(self) -> "EmbeddedJudge":
        with self._lock:
            if self._session is not None:
                return self
            folder = self.path
            missing = [f for f in ("model.onnx", "tokenizer.json", "config.json") if not (folder / f).is_file()]
            if missing and self.packaged == "accurate":
                raise ModelError(
                    "the accurate model (MPNet-base) is not in this release: it is still being trained (see "
                    "verisum/models/nli-mpnet/MODEL_CARD.md); use the fast model (--model fast, the default)"
                )
            if missing:
                raise ModelError(
                    f"the embedded model in {folder} is missing {', '.join(missing)}; "
                    "reinstall verisum, or pass model_dir= a folder with model.onnx, tokenizer.json and config.json"
                )
            try:
                config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ModelError(f"cannot read {folder / 'config.json'}: {exc}; reinstall verisum") from exc
            labels = tuple(_ALIASES.get(str(x).lower(), "") for x in config.get("labels", LABELS))
            if sorted(labels) != sorted(LABELS):
                raise ModelError(
                    f"{folder / 'config.json'} has labels {config.get('labels')!r}; "
                    f"expected the three of {list(LABELS)}"
                )
            from ..encoder import load_tokenizer, make_session

            tokenizer = load_tokenizer(folder / "tokenizer.json")
            session = make_session(folder / "model.onnx", self.intra_op_num_threads or 1)
            names = {i.name for i in session.get_inputs()}
            if not {"input_ids", "attention_mask"} <= names:
                raise ModelError(f"{folder / 'model.onnx'} does not take input_ids and attention_mask")
            self._labels = labels
            self._max_length = int(self.max_length or config.get("max_length", 256))
            self._pad_id = int(config.get("pad_id", 0))
            self._inputs = names
            self._fault_head = "fault_logits" in {o.name for o in session.get_outputs()}
            # A Checker without its own premise rule takes the model's (see CostlyJudge).
            premises = _declared_premises(config, folder)
            if premises is not None:
                self.premises = premises
            self._tokenizer = tokenizer
            self._session = session
        return self

    def declared_premises(self) -> str | None:
        """The premise rule this model's ``config.json`` names, read without loading the model
        (``verisum eval`` scores cached rows with it); None when it names none or is not there."""
        folder = self.path
        try:
            config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return _declared_premises(config, folder)

    def params(self) -> dict[str, Any]:
        return {
            "model_dir": f"packaged:{MODEL_NAMES[self.packaged]}" if self.packaged else str(self.model_dir),
            "max_length": self.max_length or self._max_length,
            "encoder": self.encoder_name,
        }

    # -- companions ----------------------------------------------------------------------
    def encoder(self) -> Any:
        """The retriever's sentence encoder."""
        if self._encoder is None:
            from ..encoder import Encoder, StaticEncoder

            if self.encoder_name == "static":
                self._encoder = StaticEncoder()
            else:
                self._encoder = Encoder(intra_op_num_threads=self.intra_op_num_threads)
        return self._encoder

    def retriever(self) -> Any:
        if self._retriever is None:
            from ..evidence import HybridRetriever

            if self.encoder_name == "static":
                # Cheap enough to embed every sentence (no shortlist), and to align word by word.
                self._retriever = HybridRetriever(self.encoder(), shortlist=None, aligner=self.encoder())
            else:
                self._retriever = HybridRetriever(self.encoder(), shortlist=8)
        return self._retriever

    def calibrator(self) -> Any:
        from ..calibration import Calibrator

        if self.combiner is not None:
            path = Path(self.combiner)
        elif (self.path / "combiner.json").is_file():
            path = self.path / "combiner.json"
        elif self.packaged == "fast":
            path = COMBINERS[self.encoder_name]
        else:
            return None
        if not path.is_file():
            return None
        try:
            text = path.read_text(encoding="utf-8")
            cal = Calibrator.from_json(text)
            state = json.loads(text)
            fitted_for = state.get("model_sha256")
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"cannot read the combiner {path}: {exc}; reinstall verisum") from exc
        if state.get("encoder", self.encoder_name) != self.encoder_name:
            import warnings

            warnings.warn(
                f"the combiner {path} was fitted on {state['encoder']!r} sentence embeddings, and this judge "
                f"uses {self.encoder_name!r}; scores may be miscalibrated",
                stacklevel=2,
            )
        if fitted_for and (self.path / "model.onnx").is_file() and fitted_for != model_fingerprint(self.path):
            import warnings

            warnings.warn(
                f"the combiner {path} was fitted for another model than {self.path / 'model.onnx'}; "
                "scores may be miscalibrated: refit it with `verisum train combiner`",
                stacklevel=2,
            )
        return cal

    # -- judging -------------------------------------------------------------------------
    def _encode(self, pairs: Sequence[Pair]) -> list[tuple[Any, bool]]:
        """Token encodings of the pairs, premise cut to fit; (encoding, truncated) each."""
        tok = self._tokenizer
        limit = self._max_length
        tok.enable_truncation(limit, strategy="only_first")
        out: list[tuple[Any, bool]] = []
        try:
            encs = tok.encode_batch([(p.premise, p.hypothesis) for p in pairs])
        except Exception:  # a claim alone longer than the limit: encode one by one
            encs = None
        if encs is not None:
            return [(e, bool(e.overflowing)) for e in encs]
        for p in pairs:
            try:
                e = tok.encode(p.premise, p.hypothesis)
            except Exception:
                tok.enable_truncation(limit, strategy="longest_first")
                e = tok.encode(p.premise, p.hypothesis)
                tok.enable_truncation(limit, strategy="only_first")
            out.append((e, bool(e.overflowing)))
        return out

    def logits(self, pairs: Sequence[Pair]) -> tuple[np.ndarray, list[bool]]:
        """Raw logits ``[n, 3]`` in the model's label order, and whether each pair was cut."""
        out, truncated, _ = self._run(pairs)
        return out, truncated

    def _run(self, pairs: Sequence[Pair]) -> tuple[np.ndarray, list[bool], list[tuple[tuple[int, int, float], ...]]]:
        """Logits, truncation flags and, with a fault head, each hypothesis' word pieces with P(at fault)."""
        self.load()
        from ..encoder import pad_batch

        with self._lock:  # the tokenizer's truncation setting is shared state
            encoded = self._encode(pairs)
        order = np.argsort([len(e.ids) for e, _ in encoded], kind="stable")
        out = np.zeros((len(pairs), len(self._labels)), dtype=np.float32)
        faults: list[tuple[tuple[int, int, float], ...]] = [()] * len(pairs)
        chunks = [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        names = ["logits", "fault_logits"] if self._fault_head else ["logits"]

        def run(idx: np.ndarray) -> None:
            feeds = pad_batch([encoded[j][0] for j in idx], self._pad_id)
            feeds = {k: v for k, v in feeds.items() if k in self._inputs}
            try:
                got = self._session.run(names, feeds)
            except Exception as exc:  # onnxruntime's own error types
                raise ModelError(f"the embedded model failed: {exc}") from exc
            out[idx] = got[0]
            if self._fault_head:
                p = 1.0 / (1.0 + np.exp(-got[1].astype(np.float64)))
                for row, j in enumerate(idx):
                    e = encoded[j][0]
                    faults[j] = tuple((a, b, float(p[row, t])) for t, ((a, b), sid) in enumerate(zip(e.offsets, e.sequence_ids))
                                      if sid == 1 and b > a)

        pool = self._executor() if len(chunks) > 1 else None
        if pool is None:
            for idx in chunks:
                run(idx)
        else:
            for _ in pool.map(run, chunks):  # re-raises the first failure
                pass
        return out, [t for _, t in encoded], faults

    def _executor(self) -> Any:
        """The thread pool for parallel model calls (None when one worker is asked for)."""
        workers = self.workers if self.workers is not None else (os.cpu_count() or 1)
        if workers <= 1:
            return None
        with self._lock:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(workers, thread_name_prefix="verisum-embedded")
        return self._pool

    def judge(self, pairs: Sequence[Pair]) -> list[Judgement]:
        if not pairs:
            return []
        logits, truncated, token_faults = self._run(pairs)
        z = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(z)
        probs /= probs.sum(axis=1, keepdims=True)
        col = {label: k for k, label in enumerate(self._labels)}
        out = []
        for row, cut, tf in zip(probs.astype(float), truncated, token_faults):
            p = {label: float(row[col[label]]) for label in LABELS}
            s = sum(p.values())
            out.append(
                Judgement(
                    supported=p["supported"] / s,
                    contradicted=p["contradicted"] / s,
                    unsupported=p["unsupported"] / s,
                    truncated=cut,
                    token_faults=tf,
                )
            )
        return out

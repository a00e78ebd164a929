"""Train the embedded judge on real NLI / claim-evidence pairs: a 3-way cross-encoder (MiniLM-L6 or MPNet-base).

Input rows (JSONL): ``{"premise", "hypothesis" (or "claim"), "label", "classes"}`` as in
``../shared/data/nli``. Labels ``supported`` / ``contradicted`` / ``unsupported`` train the
3-way head with cross-entropy; ``classes: 2`` rows (``supported`` / ``not_supported``) train
supported-vs-not only: their loss is ``-log P(supported)`` or ``-log (P(contradicted) +
P(unsupported))``, so the split between the two "not" classes is left to the 3-way rows.

Why a second trainer beside :mod:`verisum.training.trainer`: that one reads the synthetic
generator's 3-way pairs and re-tokenises every batch; this one pre-tokenises once and batches
pairs of similar length together (within a seeded window of 64 batches), which about doubles
the pairs per second on a CPU where most NLI pairs are far shorter than 128 tokens.

Runs stop and resume. Every ``--ckpt-minutes`` and at the end it writes

* ``<out>/state.pt``: full state (weights, optimizer, scheduler, position in the data order,
  RNG) for ``--resume`` on the same machine;
* ``<out>/warm.pt``: a compact warm start (fp16, only the weights that train: the word
  embeddings stay frozen at the base model's), about 22 MB for MiniLM, small enough to commit;
  ``--init`` continues from it on a fresh machine. MPNet's is 172 MB, too large to commit:
  ``verisum train pack`` (:mod:`verisum.training.compact`) stores it as a low-rank int8 difference
  from the base (23 MB, ``warm/`` in the repository), which ``--init`` also takes, as it takes an
  exported model folder (``model.onnx``, int8 or fp32: :mod:`verisum.training.onnx_weights`).

The data order is a seeded permutation; the same files and seed give the same batches.

**The fault head** (``--spans FILE[:REPEAT]``, rows of :mod:`verisum.training.spans`): a linear
layer over the last hidden states gives every token P(at fault); it trains on the claim tokens
of the span rows (1 inside a fault span, 0 outside) and of the supported NLI rows (all 0), with
binary cross-entropy weighted by ``--fault-weight`` beside the 3-way loss, so one forward pass
gives the verdict and the words at fault. 500 distinct span rows are kept aside (seeded; every
copy of them out of training: :func:`split_span_rows`) and the
held-out report adds the head's token AUC and F1 at 0.5. A run without ``--spans`` has no head
(and resumes runs made before it existed); ``--init`` from such a run starts the head afresh.

``--base`` is ``minilm`` (the default), ``mpnet`` (assembled and verified by
:mod:`verisum.training.bases`) or a model folder. ``--out`` defaults to a folder outside the work
tree (``$VERISUM_TRAIN_DIR`` or ``~/.cache/verisum/train``, then ``nli-<base>``), so a fresh
checkout on the same machine resumes the run. On a CPU with bf16 units (AVX512-BF16 / AMX) the
forward and backward passes run under bf16 autocast (``--precision auto``; the weights and the
optimizer stay fp32); the optimizer is torch's fused AdamW.

    python -m verisum.training.nli --data ../shared/data/nli --total-passes 1
    python -m verisum.training.nli --data ../shared/data/nli --base mpnet --resume
    python -m verisum.training.nli --data ../shared/data/nli --out .train/nli2 --init warm.pt --device cuda
"""
from __future__ import annotations

import argparse
import contextlib
import glob
import hashlib
import json
import os
import signal
import sys
import time
from typing import Sequence

import numpy as np
import torch

from verisum.training.bases import base_name, resolve_base, train_dir
from verisum.training.trainer import LABELS, LID, atomic_save, log, start_run

NOT_SUPPORTED = -1  # label id of a 2-way "not_supported" row
HELD_OUT = 1000  # rows kept aside (seeded) to watch the loss, never trained on
SPAN_HELD_OUT = 500  # distinct span rows kept aside (seeded) to watch the fault head


def read_rows(paths: Sequence[str]) -> list[dict]:
    """All rows of the given JSONL files (or folders of them), in file order."""
    files: list[str] = []
    for p in paths:
        files.extend(sorted(glob.glob(os.path.join(p, "*.jsonl"))) if os.path.isdir(p) else [p])
    rows = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                claim = r.get("hypothesis", r.get("claim"))
                if not claim or not r.get("premise"):
                    continue
                label = r["label"]
                y = NOT_SUPPORTED if label == "not_supported" else LID[label]
                rows.append({"premise": r["premise"], "claim": claim, "y": y,
                             "dataset": r.get("dataset", os.path.basename(f))})
    return rows


def pairs_outside_held_out(paths: Sequence[str], seed: int = 13) -> list[dict]:
    """The rows of ``paths`` (:func:`read_rows`) as ``{"premise", "hypothesis", "label", "dataset"}``,
    without the :data:`HELD_OUT` rows the trainer run with ``--seed`` ``seed`` keeps aside: what the
    generators of training pairs (``verisum train spans``, ``perspective``) may build on."""
    rows = read_rows(paths)
    held = set(split_held_out(len(rows), seed)[0])
    return [{"premise": r["premise"], "hypothesis": r["claim"], "dataset": r["dataset"],
             "label": "not_supported" if r["y"] == NOT_SUPPORTED else LABELS[r["y"]]}
            for i, r in enumerate(rows) if i not in held]


def read_span_rows(specs: Sequence[str]) -> list[dict]:
    """Rows of ``verisum train spans`` files (``PATH`` or ``PATH:REPEAT``), with ``y`` and ``faults``."""
    rows = []
    for spec in specs:
        path, _, rep = spec.rpartition(":") if spec.rsplit(":", 1)[-1].isdigit() else (spec, "", "1")
        with open(path, encoding="utf-8") as fh:
            part = []
            for line in fh:
                r = json.loads(line)
                label = r["label"]
                faults = None if r["faults"] is None else [tuple(f) for f in r["faults"]]  # None: wrong, not where
                part.append({"premise": r["premise"], "claim": r["claim"], "faults": faults,
                             "y": NOT_SUPPORTED if label == "not_supported" else LID[label],
                             "dataset": r.get("kind", "spans")})
        rows.extend(part * int(rep))
    return rows


def fault_labels(tok, rows: list[dict], max_length: int) -> list[list[int]]:
    """Per token of each (premise, claim) pair, as :func:`tokenize` cuts it: 1 for a claim token
    inside one of the row's fault spans, 0 for another claim token, -100 (no target) for the
    premise and special tokens, and for every token of a row whose faults are unknown
    (``faults`` None: an unsupported NLI row says something is wrong, not where)."""
    out = []
    for i in range(0, len(rows), 2048):
        chunk = rows[i:i + 2048]
        for (_, seq, offs), r in zip(encode_pairs(tok, chunk, max_length), chunk):
            seq, offs = seq[:max_length], offs[:max_length]
            faults = r.get("faults")
            labels = []
            for sid, (a, b) in zip(seq, offs):
                if faults is None or sid != 1 or a == b:
                    labels.append(-100)
                else:
                    labels.append(int(any(a < fb and fa < b for fa, fb in faults)))
            out.append(labels)
    return out


def add_fault_head(model) -> None:
    """Attach the token-level fault head (``model.fault_head``: hidden -> 1 logit per token)."""
    model.fault_head = torch.nn.Linear(model.config.hidden_size, 1)


def forward(model, enc: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(3-way logits, per-token fault logits or None when the model has no fault head)."""
    if not hasattr(model, "fault_head"):
        return model(**enc).logits, None
    out = model(**enc, output_hidden_states=True)
    return out.logits, model.fault_head(out.hidden_states[-1]).squeeze(-1)


def fault_loss(fault_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy over the tokens that have a target (labels >= 0); 0 when none has."""
    mask = labels >= 0
    if not mask.any():
        return fault_logits.sum() * 0.0
    return torch.nn.functional.binary_cross_entropy_with_logits(fault_logits.float()[mask], labels[mask].float())


def split_span_rows(rows: Sequence[dict], seed: int, rule: str = "distinct",
                    n: int = SPAN_HELD_OUT) -> tuple[list[int], list[int]]:
    """(held-out span row indices, training span row indices). ``distinct``: ``n`` distinct
    (premise, claim) pairs are held out with every copy of them left out of training (a file
    read ``PATH:3`` repeats its rows, and another file may hold the same pair), one copy each
    scored; ``rows`` (runs made before 2026-12-07, kept so that they resume on the same split):
    ``n`` row indices, so a repeated row's other copies may train."""
    rng = np.random.RandomState(seed + 2)
    if rule == "rows":
        aside = set(rng.permutation(len(rows))[:n].tolist())
        return sorted(aside), [i for i in range(len(rows)) if i not in aside]
    if rule != "distinct":
        raise ValueError(f"span hold-out rule is distinct or rows, not {rule!r}")
    keys = [(r["premise"], r["claim"]) for r in rows]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}  # each pair's first row
    distinct = sorted(first.values())
    held_keys = {keys[distinct[j]] for j in rng.permutation(len(distinct))[:n]}
    return sorted(first[k] for k in held_keys), [i for i, k in enumerate(keys) if k not in held_keys]


def split_held_out(n_rows: int, seed: int) -> tuple[list[int], np.ndarray]:
    """(held-out row indices, training row indices): :data:`HELD_OUT` rows chosen by ``seed``,
    the same for every run and for the export's check of a quantised model."""
    perm = np.random.RandomState(seed + 1).permutation(n_rows)
    return sorted(perm[:HELD_OUT].tolist()), np.sort(perm[HELD_OUT:])


def tokenize(tok, rows: list[dict], max_length: int) -> list[list[int]]:
    """Token ids of every (premise, claim) pair, premise cut first; token types derived later."""
    out = []
    for i in range(0, len(rows), 2048):
        chunk = rows[i:i + 2048]
        out += [ids[:max_length] for ids, _, _ in encode_pairs(tok, chunk, max_length)]
    return out


def encode_pairs(tok, rows: list[dict], max_length: int) -> list[tuple[list[int], list, list]]:
    """``(input ids, sequence ids, character offsets)`` of each (premise, claim) pair, the premise
    cut first, as the judge reads it; a pair whose claim alone leaves no room for a premise (the
    tokenizer refuses ``only_first``) is cut ``longest_first``, the embedded judge's fallback."""
    def encoded(enc) -> list[tuple[list[int], list, list]]:
        return [(enc["input_ids"][k], enc.sequence_ids(k), enc["offset_mapping"][k]) for k in range(len(enc["input_ids"]))]

    premises, claims = [r["premise"] for r in rows], [r["claim"] for r in rows]
    kw = {"max_length": max_length, "return_offsets_mapping": True}
    try:
        return encoded(tok(premises, claims, truncation="only_first", **kw))
    except Exception:  # noqa: BLE001 - the fast tokenizer raises a bare Exception for such a pair
        out = []
        for p, c in zip(premises, claims):
            try:
                out += encoded(tok([p], [c], truncation="only_first", **kw))
            except Exception:  # noqa: BLE001
                out += encoded(tok([p], [c], truncation="longest_first", **kw))
        return out


def make_batches(lengths: np.ndarray, batch_size: int, seed: int, window: int = 64) -> list[np.ndarray]:
    """Seeded batches of similar-length pairs: shuffle, sort each window of ``window`` batches by
    length, cut into batches, shuffle the batches of the window."""
    rng = np.random.RandomState(seed)
    order = rng.permutation(len(lengths))
    batches = []
    span = batch_size * window
    for s in range(0, len(order), span):
        block = order[s:s + span]
        block = block[np.argsort(lengths[block], kind="stable")]
        bs = [block[i:i + batch_size] for i in range(0, len(block), batch_size)]
        rng.shuffle(bs)
        batches.extend(bs)
    return batches


def collate(ids: list[list[int]], sep_id: int, device: str, token_types: bool = True) -> dict[str, torch.Tensor]:
    """Padded tensors of a batch; ``token_types`` False for models without segment ids (MPNet)."""
    n = max(len(x) for x in ids)
    input_ids = torch.zeros((len(ids), n), dtype=torch.long)
    mask = torch.zeros((len(ids), n), dtype=torch.long)
    types = torch.zeros((len(ids), n), dtype=torch.long)
    for i, x in enumerate(ids):
        input_ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
        first_sep = x.index(sep_id)
        types[i, first_sep + 1:len(x)] = 1
    out = {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}
    if token_types:
        out["token_type_ids"] = types.to(device)
    return out


def uses_token_types(model) -> bool:
    """Whether the model reads segment ids (BERT/MiniLM do; MPNet has none)."""
    return getattr(model.config, "type_vocab_size", 0) > 1 and model.config.model_type != "mpnet"


def cpu_has_bf16() -> bool:
    """AVX512-BF16 or AMX-BF16 on this CPU (Linux: /proc/cpuinfo); bf16 autocast is slower than
    fp32 without them."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            flags = f.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_for(device: str, precision: str):
    """A context manager for the forward pass: bf16 autocast when asked (or, with ``auto``, when
    the device has bf16 units), else nothing."""
    kind = "cuda" if device.startswith("cuda") else "cpu"
    if precision == "auto":
        use = torch.cuda.is_bf16_supported() if kind == "cuda" else cpu_has_bf16()
    else:
        use = precision == "bf16"
    return (lambda: torch.autocast(kind, dtype=torch.bfloat16)) if use else contextlib.nullcontext


def mixed_loss(logits: torch.Tensor, y: torch.Tensor, smoothing: float) -> torch.Tensor:
    """Cross-entropy on 3-way rows; on 2-way rows, -log P(supported) or -log P(not supported)."""
    logp = torch.log_softmax(logits.float(), -1)
    three = y >= 0
    losses = []
    if three.any():
        yy = y[three]
        nll = -logp[three].gather(1, yy[:, None]).squeeze(1)
        smooth = -logp[three].mean(1)
        losses.append((1 - smoothing) * nll + smoothing * smooth)
    if (~three).any():
        lp = logp[~three]
        losses.append(-torch.logsumexp(lp[:, 1:], dim=1))
    return torch.cat(losses).mean()


def trainable_state(model) -> dict[str, torch.Tensor]:
    """The compact warm start: every weight but the frozen word embeddings, in fp16."""
    return {k: v.detach().to("cpu", torch.float16) for k, v in model.state_dict().items()
            if "word_embeddings" not in k and not k.endswith("position_ids")}


def load_warm(model, path: str, state: dict | None = None) -> dict:
    """Load a compact warm start into ``model``: a ``warm.pt``, a packed one (the difference from
    the base, small enough to commit: :mod:`verisum.training.compact`; ``model`` must still hold
    the base's weights), or an exported model (its folder or its ``model.onnx``, fp32 or int8;
    :mod:`verisum.training.onnx_weights`): what a fresh machine has when the run's own files are
    gone. ``state`` is the file already read."""
    from verisum.training import compact, onnx_weights
    if state is None and onnx_weights.model_file(path):
        return onnx_weights.load_exported(model, path)
    st = state if state is not None else torch.load(path, map_location="cpu", weights_only=False)
    if compact.is_packed(st):  # a committed warm start: the difference from the base the model holds now
        try:
            weights = compact.unpack(st, model.state_dict())
        except ValueError as exc:
            raise SystemExit(f"{path}: {exc}") from None
    else:
        weights = {k: v.float() for k, v in st["weights"].items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    # a warm start made before the fault head existed starts the head afresh
    bad = [k for k in missing if "word_embeddings" not in k and not k.endswith("position_ids")
           and not k.startswith("fault_head.")]
    if bad or unexpected:
        raise SystemExit(f"{path} does not fit the base model: missing {bad[:5]}, unexpected {unexpected[:5]}")
    return st.get("meta", {})


def build_model(base: str):
    """Tokenizer and a 3-way sequence classifier on ``base`` (a name of :data:`bases.BASES` or a folder)."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = resolve_base(base)
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=3)
    model.config.id2label = dict(enumerate(LABELS))
    model.config.label2id = LID
    return tok, model


@torch.no_grad()
def held_out_faults(model, ids, labels, sep_id, device, bs=64, autocast=contextlib.nullcontext) -> dict:
    """The fault head on held-out span rows: token-level AUC and F1 at P = 0.5 over claim tokens."""
    model.eval()
    scores, targets = [], []
    types = uses_token_types(model)
    for i in range(0, len(ids), bs):
        enc = collate(ids[i:i + bs], sep_id, device, types)
        with autocast():
            _, fl = forward(model, enc)
        p = torch.sigmoid(fl.float()).cpu().numpy()
        for k, lab in enumerate(labels[i:i + bs]):
            for t, y in enumerate(lab):
                if y >= 0:
                    scores.append(p[k, t])
                    targets.append(y)
    model.train()
    s, y = np.array(scores), np.array(targets)
    from verisum.evaluation.metrics import roc_auc
    tp = int(((s >= 0.5) & (y == 1)).sum())
    f1 = 2 * tp / max(int((s >= 0.5).sum()) + int((y == 1).sum()), 1)
    return {"fault_token_auc": roc_auc(s.tolist(), y.tolist()), "fault_token_f1": f1}


@torch.no_grad()
def held_out_report(model, ids, ys, sep_id, device, bs=64, autocast=contextlib.nullcontext) -> dict:
    model.eval()
    probs = []
    order = np.argsort([len(x) for x in ids])
    types = uses_token_types(model)
    for i in range(0, len(order), bs):
        idx = order[i:i + bs]
        enc = collate([ids[j] for j in idx], sep_id, device, types)
        with autocast():
            logits, _ = forward(model, enc)
        p = torch.softmax(logits.float(), -1).cpu().numpy()
        probs.append((idx, p))
    model.train()
    P = np.zeros((len(ids), 3))
    for idx, p in probs:
        P[idx] = p
    y = np.array(ys)
    three = y >= 0
    sup = (y == 0).astype(int)
    from verisum.evaluation.metrics import roc_auc
    return {"acc3": float((P[three].argmax(1) == y[three]).mean()),
            "auc_supported": roc_auc(P[:, 0].tolist(), sup.tolist()),
            "acc2": float(((P[:, 0] >= 0.5) == (sup == 1)).mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="verisum train nli", description=__doc__.split("\n")[0])
    ap.add_argument("--data", action="append", required=True, help="JSONL file or folder (repeatable)")
    ap.add_argument("--out", default=None,
                    help="run folder (default: $VERISUM_TRAIN_DIR or ~/.cache/verisum/train, then nli-<base>)")
    ap.add_argument("--base", default="minilm", help="minilm, mpnet or a model folder")
    ap.add_argument("--init", default=None,
                    help="continue from a compact warm start (warm.pt) or an exported model (its folder or model.onnx)")
    ap.add_argument("--resume", action="store_true", help="continue <out>/state.pt exactly")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto",
                    help="bf16 autocast for the forward pass: auto uses it where the CPU/GPU has bf16 units")
    ap.add_argument("--seed", type=int, default=13, help="seeds the held-out split, the model's head and the data order")
    ap.add_argument("--first-pass", type=int, default=0,
                    help="number the passes from here, so a continued run (--init) sees a new data order "
                         "while the held-out split stays the one --seed chose")
    ap.add_argument("--lr", type=float, default=4e-5)
    ap.add_argument("--head-lr", type=float, default=2e-4)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--total-passes", type=float, default=1.0, help="length of the LR schedule in passes")
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--eval-every", type=int, default=1000)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--deadline", type=float, default=None, help="unix time: checkpoint and stop")
    ap.add_argument("--spans", action="append", default=[], metavar="PATH[:REPEAT]",
                    help="rows with the words at fault marked (verisum train spans): adds and trains the fault head")
    ap.add_argument("--fault-weight", type=float, default=1.0, help="weight of the fault head's loss")
    ap.add_argument("--fault-head-lr", type=float, default=None,
                    help="learning rate of the fault head alone [--head-lr]: a new head beside a trained "
                         "classifier learns faster than the classifier should move")
    ap.add_argument("--span-holdout", choices=["distinct", "rows"], default="distinct",
                    help="how the fault head's 500 held-out span rows are chosen: distinct pairs, every copy "
                         "out of training; rows: by row, as runs before 2026-12-07 did (a resumed run keeps "
                         "its own rule) [default: distinct]")
    a = ap.parse_args(argv)
    if a.out is None:
        a.out = str(train_dir("nli-" + (a.base if a.base in ("minilm", "mpnet") else os.path.basename(a.base.rstrip("/")))))

    start_run(a.out, a.seed, a.threads)
    t0 = time.time()
    state_path = os.path.join(a.out, "state.pt")
    resumed = torch.load(state_path, map_location="cpu", weights_only=False) \
        if a.resume and os.path.exists(state_path) else None
    if resumed is not None:  # a run keeps the span split it started with (older runs: by row)
        a.span_holdout = resumed.get("args", {}).get("span_holdout", "rows")
    tok, model = build_model(a.base)
    base_id = base_name(resolve_base(a.base))
    sep_id = tok.sep_token_id
    types = uses_token_types(model)
    autocast = autocast_for(a.device, a.precision)
    rows = read_rows(a.data)
    held, train_idx = split_held_out(len(rows), a.seed)
    all_ids = tokenize(tok, rows, a.max_length)
    ids = [all_ids[i] for i in train_idx]
    ys = [rows[i]["y"] for i in train_idx]
    held_ids = [all_ids[i] for i in held]
    held_ys = [rows[i]["y"] for i in held]
    sig = hashlib.sha1(f"{len(rows)}:{rows[0]['claim']}:{rows[-1]['claim']}:{a.seed}:{a.first_pass}".encode()).hexdigest()[:16]
    fl: list[list[int]] | None = None  # per-token fault targets, with the fault head only
    fault_held: tuple[list[list[int]], list[list[int]]] | None = None
    if a.spans:
        add_fault_head(model)
        span_rows = read_span_rows(a.spans)
        aside, keep = split_span_rows(span_rows, a.seed, a.span_holdout)
        for r in rows:  # a supported NLI claim has no word at fault; an unsupported one says not where
            r["faults"] = [] if r["y"] == LID["supported"] else None
        nli_fl = fault_labels(tok, [rows[i] for i in train_idx], a.max_length)
        span_ids = tokenize(tok, span_rows, a.max_length)
        span_fl = fault_labels(tok, span_rows, a.max_length)
        fault_held = ([span_ids[i] for i in aside], [span_fl[i] for i in aside])
        ids += [span_ids[i] for i in keep]
        ys += [span_rows[i]["y"] for i in keep]
        fl = nli_fl + [span_fl[i] for i in keep]
        split = "" if a.span_holdout == "rows" else f":{a.span_holdout}"  # rows: the signature runs had before
        sig = hashlib.sha1(f"{sig}:spans:{len(span_rows)}:{span_rows[0]['claim']}{split}".encode()).hexdigest()[:16]
    lengths = np.array([len(x) for x in ids])

    passes = max(1, int(np.ceil(a.total_passes)))
    batches = []
    for p in range(passes):
        batches.extend(make_batches(lengths, a.batch_size, a.seed + 100 * (a.first_pass + p)))
    total = int(len(batches) * a.total_passes / passes)
    batches = batches[:total]

    model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    meta_init = load_warm(model, a.init) if a.init else {}
    model.to(a.device)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    heads = ("classifier", "fault_head")
    # The fault head gets a group of its own only when asked, so an older state.pt (3 groups) resumes.
    apart = a.fault_head_lr is not None and hasattr(model, "fault_head")
    head = [p for n, p in named if n.startswith(heads) and not (apart and n.startswith("fault_head"))]
    fault_group = [{"params": [p for n, p in named if n.startswith("fault_head")], "lr": a.fault_head_lr,
                    "weight_decay": 0.01}] if apart else []
    decay = [p for n, p in named if not n.startswith(heads) and not ("bias" in n or "LayerNorm" in n)]
    nodecay = [p for n, p in named if not n.startswith(heads) and ("bias" in n or "LayerNorm" in n)]
    # fused: one kernel for the whole update (on a CPU the step of an MPNet batch fell from 0.45 s to 0.10 s)
    opt = torch.optim.AdamW([{"params": decay, "lr": a.lr, "weight_decay": 0.01},
                             {"params": nodecay, "lr": a.lr, "weight_decay": 0.0},
                             {"params": head, "lr": a.head_lr, "weight_decay": 0.01}, *fault_group], fused=True)

    def lr_lambda(step):
        if step < a.warmup:
            return (step + 1) / a.warmup
        return max(0.02, (total - step) / max(1, total - a.warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    step, history = 0, []
    if resumed is not None:
        st, resumed = resumed, None
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        step, history = st["step"], st["history"]
        if st["data_sig"] != sig:
            raise SystemExit(f"{state_path} was trained on other data (signature {st['data_sig']}, now {sig})")
        log(a.out, f"resumed at step {step}")
    log(a.out, f"{len(ids)} training pairs, {len(held_ids)} held out, {total} steps of {a.batch_size} "
               f"({a.total_passes} passes), mean length {lengths.mean():.1f} tokens; ready in {time.time() - t0:.0f}s"
               + (f"; warm start from {a.init} ({meta_init.get('examples_seen')} pairs seen)" if a.init else "")
               + f"; base {base_id}, {'bf16 autocast' if autocast is not contextlib.nullcontext else 'fp32'}")

    seen_before = int(meta_init.get("examples_seen", 0))

    def save(reason: str) -> None:
        atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                     "scheduler": sched.state_dict(), "step": step, "history": history,
                     "data_sig": sig, "args": vars(a)}, state_path)
        meta = {"base": base_id, "base_arg": a.base, "step": step, "steps_total": total,
                "examples_seen": seen_before + step * a.batch_size, "seed": a.seed,
                "data": [os.path.basename(d.rstrip("/")) for d in a.data], "n_rows": len(rows),
                "held_out": history[-1] if history else None, "labels": LABELS,
                "max_length": a.max_length, "init": a.init}
        atomic_save({"weights": trainable_state(model), "meta": meta}, os.path.join(a.out, "warm.pt"))
        with open(os.path.join(a.out, "warm.json"), "w") as f:
            json.dump(meta, f, indent=1)
        log(a.out, f"saved state.pt and warm.pt at step {step} ({reason})")

    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(flag=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(flag=True))

    model.train()
    last_ckpt = time.time()
    win = {"loss": 0.0, "n": 0, "t": time.time()}
    while step < total:
        idx = batches[step]
        enc = collate([ids[i] for i in idx], sep_id, a.device, types)
        y = torch.tensor([ys[i] for i in idx], device=a.device)
        with autocast():
            logits, fault_logits = forward(model, enc)
        loss = mixed_loss(logits, y, a.label_smoothing)
        if fl is not None and fault_logits is not None:
            width = enc["input_ids"].shape[1]
            targets = torch.full((len(idx), width), -100, dtype=torch.long)
            for k, i in enumerate(idx):
                targets[k, :len(fl[i])] = torch.tensor(fl[i])
            loss = loss + a.fault_weight * fault_loss(fault_logits, targets.to(a.device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        win["loss"] += loss.item() * len(idx)
        win["n"] += len(idx)
        if step % a.log_every == 0:
            dt = time.time() - win["t"]
            log(a.out, f"step {step}/{total} pairs/s {win['n'] / dt:.1f} loss {win['loss'] / win['n']:.4f} "
                       f"lr {sched.get_last_lr()[0]:.2e}")
            win = {"loss": 0.0, "n": 0, "t": time.time()}
        if step % a.eval_every == 0 or step == total:
            rep = held_out_report(model, held_ids, held_ys, sep_id, a.device, autocast=autocast)
            if fault_held is not None:
                rep.update(held_out_faults(model, *fault_held, sep_id, a.device, autocast=autocast))
            rep["step"] = step
            history.append(rep)
            log(a.out, "held out: " + json.dumps(rep))
        deadline = a.deadline is not None and time.time() > a.deadline
        if stop["flag"] or deadline or time.time() - last_ckpt > a.ckpt_minutes * 60:
            save("signal" if stop["flag"] else "deadline" if deadline else "periodic")
            last_ckpt = time.time()
            if stop["flag"] or deadline:
                return 0
    save("finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())

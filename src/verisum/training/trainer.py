"""Fine-tune MiniLM (sentence-transformers/all-MiniLM-L6-v2) as a 3-way NLI judge on CPU.

Labels: 0 supported, 1 contradicted, 2 unsupported.  Input: tokenizer(premise, claim) with the
premise truncated (``only_first``), max_length 128, dynamic padding.

The data order is a single seeded shuffle over the concatenated data files; the position in it is
checkpointed, so a restarted run (``--resume``) continues exactly where it stopped, and a later
session can continue on fresh data.  Checkpoints are written atomically to ``<out>/ckpt/state.pt``
(model, optimizer, scheduler, step, data position, RNG states); the best model by bench-val AUC is
kept in ``<out>/best/model.pt``.

    python -m verisum.training.trainer --data .train/synth_train.jsonl --extra .train/bench_train.jsonl:3 \
        --val-synth .train/synth_val.jsonl --bench-val .train/bench_val.jsonl --out .train/run1 --resume
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch

from verisum.resources import base_model_dir

LABELS = ["supported", "contradicted", "unsupported"]
LID = {label: i for i, label in enumerate(LABELS)}
DEFAULT_BASE = base_model_dir()

#: A synthetic pair whose claim is longer than this many words is left out of this trainer's data:
#: with the premise it would not fit the judge's input, and only the premise is cut.
MAX_CLAIM_WORDS = 70


def log(out_dir: str, msg: str) -> None:
    line = time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + msg
    print(line, flush=True)
    with open(os.path.join(out_dir, "train.log"), "a", encoding="utf-8") as f:
        f.write(line + "\n")


def load_pairs(path: str, max_claim_words: int = MAX_CLAIM_WORDS) -> list[tuple[str, str, int]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if len(r["claim"].split()) > max_claim_words or not r["premise"].strip():
                continue
            out.append((r["premise"], r["claim"], LID[r["label"]]))
    return out


def load_eval(path: str, limit: int | None = None) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            # The synthetic pairs name the claim "claim"; the NLI data, "hypothesis" (and has
            # 2-way rows, which a 3-way check cannot use).
            r.setdefault("claim", r.get("hypothesis", ""))
            if r.get("label") not in LID or len(r["claim"].split()) > MAX_CLAIM_WORDS:
                continue
            out.append(r)
    return out[:limit] if limit else out


def encode(tok, premises, claims, max_length: int):
    enc = tok(list(premises), list(claims), truncation="only_first", max_length=max_length,
              padding=True, return_tensors="pt")
    if enc["input_ids"].shape[1] > max_length:  # claim alone too long: backstop
        enc = {k: v[:, :max_length] for k, v in enc.items()}
    return enc


@torch.no_grad()
def predict(model, tok, pairs: list[tuple[str, str]], max_length: int, bs: int = 32) -> np.ndarray:
    model.eval()
    probs = []
    for i in range(0, len(pairs), bs):
        chunk = pairs[i:i + bs]
        enc = encode(tok, [p for p, _ in chunk], [c for _, c in chunk], max_length)
        logits = model(**enc).logits
        probs.append(torch.softmax(logits.float(), -1).numpy())
    model.train()
    return np.concatenate(probs) if probs else np.zeros((0, 3))


def auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score
    if len(set(y.tolist())) < 2:
        return float("nan")
    return float(roc_auc_score(y, s))


def evaluate(model, tok, synth_val, bench_val, max_length) -> dict:
    res = {}
    if synth_val:
        p = predict(model, tok, [(r["premise"], r["claim"]) for r in synth_val], max_length)
        y = np.array([LID[r["label"]] for r in synth_val])
        res["synth_acc"] = float((p.argmax(1) == y).mean())
        res["synth_auc"] = auc((y == 0).astype(int), p[:, 0])
    if bench_val:
        p = predict(model, tok, [(r["premise"], r["claim"]) for r in bench_val], max_length)
        y = np.array([LID[r["label"]] for r in bench_val])
        res["bench_acc3"] = float((p.argmax(1) == y).mean())
        ys = (y == 0).astype(int)
        res["bench_auc_pooled"] = auc(ys, p[:, 0])
        per = {}
        for ds in sorted({r.get("dataset", "?") for r in bench_val}):
            idx = np.array([i for i, r in enumerate(bench_val) if r.get("dataset", "?") == ds])
            yy = ys[idx]
            if yy.sum() >= 5 and (1 - yy).sum() >= 5:
                per[ds] = round(auc(yy, p[idx, 0]), 4)
        res["bench_auc_per_dataset"] = per
        res["bench_auc"] = float(np.mean(list(per.values()))) if per else float("nan")
    return res


def rng_state():
    return {"py": random.getstate(), "np": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(s):
    random.setstate(s["py"])
    np.random.set_state(s["np"])
    torch.set_rng_state(s["torch"])


def start_run(out_dir: str, seed: int, threads: int) -> None:
    """The output folder, the thread count and every random generator seeded: the same for
    every trainer of the project."""
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def atomic_save(obj, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="main JSONL (premise, claim, label)")
    ap.add_argument("--extra", action="append", default=[], help="PATH:REPEAT, mixed into the stream")
    ap.add_argument("--val-synth", default=None)
    ap.add_argument("--bench-val", default=None)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", default=DEFAULT_BASE)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--head-lr", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--total-steps", type=int, default=5000, help="planned length of the LR schedule")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this step (default total)")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-minutes", type=float, default=10.0)
    ap.add_argument("--eval-every", type=int, default=2000)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--synth-val-n", type=int, default=500)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--deadline", type=float, default=None, help="unix time: checkpoint and stop")
    ap.add_argument("--no-freeze-emb", action="store_true")
    ap.add_argument("--resume", action="store_true")
    a = ap.parse_args(argv)

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    start_run(a.out, a.seed, a.threads)

    # ---- data: a single seeded shuffled pass over main + extra (repeated) pairs
    t0 = time.time()
    data = load_pairs(a.data)
    n_main = len(data)
    for spec in a.extra:
        path, _, rep = spec.rpartition(":")
        if not path:
            path, rep = spec, "1"
        xs = load_pairs(path)
        data.extend(xs * int(rep))
    order = np.random.RandomState(a.seed).permutation(len(data))
    sig = hashlib.sha1(f"{len(data)}:{data[0]}:{data[-1]}".encode()).hexdigest()[:16]
    synth_val = load_eval(a.val_synth, a.synth_val_n) if a.val_synth else []
    bench_val = load_eval(a.bench_val) if a.bench_val else []

    tok = AutoTokenizer.from_pretrained(a.base)
    model = AutoModelForSequenceClassification.from_pretrained(a.base, num_labels=3)
    model.config.id2label = dict(enumerate(LABELS))
    model.config.label2id = LID
    if not a.no_freeze_emb:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    head = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("classifier")]
    body_decay = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("classifier")
                  and not ("bias" in n or "LayerNorm" in n)]
    body_nodecay = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("classifier")
                    and ("bias" in n or "LayerNorm" in n)]
    opt = torch.optim.AdamW([
        {"params": body_decay, "lr": a.lr, "weight_decay": 0.01},
        {"params": body_nodecay, "lr": a.lr, "weight_decay": 0.0},
        {"params": head, "lr": a.head_lr, "weight_decay": 0.01},
    ])
    total = a.total_steps

    def lr_lambda(step):
        if step < a.warmup:
            return (step + 1) / a.warmup
        return max(0.0, (total - step) / max(1, total - a.warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda)
    step, pos, best_auc, history = 0, 0, -1.0, []
    ckpt_path = os.path.join(a.out, "ckpt", "state.pt")
    if a.resume and os.path.exists(ckpt_path):
        st = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        step, pos, best_auc, history = st["step"], st["pos"], st.get("best_auc", -1.0), st.get("history", [])
        set_rng_state(st["rng"])
        if st.get("data_sig") != sig:
            log(a.out, f"WARNING: data signature changed ({st.get('data_sig')} -> {sig}); continuing at pos {pos}")
        log(a.out, f"resumed from step {step}, data position {pos}")
    log(a.out, f"data {len(data)} pairs ({n_main} main), synth-val {len(synth_val)}, bench-val {len(bench_val)}, "
               f"loaded in {time.time() - t0:.0f}s; total_steps {total}, batch {a.batch_size}, seed {a.seed}")

    def save_ckpt(reason: str):
        atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                     "step": step, "pos": pos, "rng": rng_state(), "best_auc": best_auc, "history": history,
                     "data_sig": sig, "n_data": len(data), "args": vars(a)}, ckpt_path)
        log(a.out, f"checkpoint saved at step {step} ({reason})")

    def do_eval():
        nonlocal best_auc
        te = time.time()
        res = evaluate(model, tok, synth_val, bench_val, a.max_length)
        res["step"] = step
        history.append(res)
        log(a.out, f"eval step {step}: " + json.dumps(res) + f" ({time.time() - te:.0f}s)")
        ba = res.get("bench_auc", float("nan"))
        if not math.isnan(ba) and ba > best_auc:
            best_auc = ba
            atomic_save({"model": model.state_dict(), "step": step, "eval": res}, os.path.join(a.out, "best", "model.pt"))
            with open(os.path.join(a.out, "best", "meta.json"), "w") as f:
                json.dump({"step": step, "eval": res, "n_data": len(data), "seed": a.seed, "examples_seen": pos}, f, indent=1)
            log(a.out, f"new best bench AUC {ba:.4f} at step {step}")

    stop = {"flag": False}

    def on_term(signum, frame):
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    max_steps = a.max_steps or total
    model.train()
    lossf = torch.nn.CrossEntropyLoss(label_smoothing=a.label_smoothing)
    last_ckpt = time.time()
    win_loss, win_acc, win_n, win_t = 0.0, 0, 0, time.time()
    if step == 0 and (synth_val or bench_val):
        do_eval()
    while step < max_steps and pos < len(data):
        idx = order[pos:pos + a.batch_size]
        batch = [data[i] for i in idx]
        enc = encode(tok, [b[0] for b in batch], [b[1] for b in batch], a.max_length)
        y = torch.tensor([b[2] for b in batch])
        logits = model(**enc).logits
        loss = lossf(logits, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        pos += len(batch)
        win_loss += loss.item() * len(batch)
        win_acc += int((logits.argmax(-1) == y).sum())
        win_n += len(batch)
        if step % a.log_every == 0:
            dt = time.time() - win_t
            log(a.out, f"step {step} pos {pos} ex/s {win_n / dt:.1f} loss {win_loss / win_n:.4f} "
                       f"acc {win_acc / win_n:.3f} lr {sched.get_last_lr()[0]:.2e}")
            win_loss, win_acc, win_n, win_t = 0.0, 0, 0, time.time()
        if step % a.eval_every == 0:
            do_eval()
        deadline_hit = a.deadline is not None and time.time() > a.deadline
        if time.time() - last_ckpt > a.ckpt_minutes * 60 or stop["flag"] or deadline_hit:
            save_ckpt("signal" if stop["flag"] else ("deadline" if deadline_hit else "periodic"))
            last_ckpt = time.time()
            if stop["flag"] or deadline_hit:
                log(a.out, "stopping")
                return 0
    if not history or history[-1]["step"] != step:
        do_eval()
    save_ckpt("finished")
    log(a.out, "finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())

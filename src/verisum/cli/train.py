"""``verisum train STEP [ARGS]...``: the shipped models' training, step by step.

Each step is a module of :mod:`verisum.training` with its own argparse interface (``verisum
train STEP --help`` shows it); this command only dispatches, so the training code keeps one
command-line definition. The cross-encoder's steps (synth, bench-pairs, fit, export) need the
``[train]`` extra (torch==2.13.0, transformers), and ``scripts/train_embedded.sh`` runs them in
order, resumably; ``static`` and ``ranker`` run on the base install.
"""

from __future__ import annotations

import importlib

import click

from .common import fail, handle_errors

__all__ = ["train", "STEPS"]

#: step -> (module with a ``main(argv)``, one-line description)
STEPS = {
    "synth": ("verisum.training.synth", "generate synthetic (premise, claim, label) pairs from a news corpus"),
    "bench-pairs": ("verisum.training.bench", "write labelled pairs from the bench-dev train or val part"),
    "fit": ("verisum.training.trainer", "train (or resume training) the cross-encoder, with checkpoints"),
    "nli": ("verisum.training.nli", "train the cross-encoder on real NLI / claim-evidence pairs (resumable)"),
    "export": ("verisum.training.export", "export a checkpoint to ONNX in the package's model folder, checked"),
    "pack": ("verisum.training.compact", "pack a warm start small enough to commit (low-rank int8 difference from the base)"),
    "base": ("verisum.training.bases", "fetch and verify a base model (minilm, mpnet) for training"),
    "spans": ("verisum.training.spans", "write NLI pairs with the words at fault marked (the fault head's data)"),
    "dialogue": ("verisum.training.dialogue", "rewrite fault-marked pairs as chats and calls, their claims reported"),
    "perspective": ("verisum.training.perspective", "first-person NLI pairs with their claims retold in the third person"),
    "combiner": ("verisum.training.combiner", "fit the combiner on labelled records (figures: leave-one-dataset-out)"),
    "static": ("verisum.training.static", "distil the retriever's static token vectors from all-MiniLM-L6-v2"),
    "ranker": ("verisum.training.ranker", "fit the highlights writer's sentence ranker on reference highlights"),
}


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    epilog="Steps: " + "; ".join(f"{k}: {v[1]}" for k, v in STEPS.items()),
)
@click.argument("step", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
@handle_errors
def train(ctx: click.Context, step: str | None, args: tuple[str, ...]) -> None:
    """Train the shipped models: verisum train STEP [ARGS]... (STEP --help for its options)."""
    if step is None or step in ("-h", "--help"):
        click.echo(ctx.get_help())
        ctx.exit(0)
    if step not in STEPS:
        fail(f"unknown training step {step!r}; steps: {', '.join(STEPS)}")
    module = STEPS[step][0]
    try:
        main = importlib.import_module(module).main
    except ImportError as exc:
        fail(f"training needs the [train] extra: pip install -e '.[train]' ({exc})")
    ctx.exit(main(list(args)) or 0)

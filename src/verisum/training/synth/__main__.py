"""``python -m verisum.training.synth``."""

from .driver import main

main()

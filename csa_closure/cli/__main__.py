"""``python -m csa_closure.cli``: the same command line as ``csa-closure``."""

from csa_closure.cli import main

main()

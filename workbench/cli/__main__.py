"""`python -m workbench.cli`: the same command as `workbench`, for when the entry point is not on PATH."""

from workbench.cli import main

main()

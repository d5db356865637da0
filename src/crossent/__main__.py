"""``python -m crossent``: the command line."""

from crossent.cli import main

main()

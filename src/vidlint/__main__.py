"""``python -m vidlint`` runs the CLI."""

from vidlint.cli.app import main

main()

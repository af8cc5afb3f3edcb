"""`python -m cnnlint` is the `cnnlint` command."""

from .cli import main

main()

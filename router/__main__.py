"""`python -m router …` is the `router` command."""
from .cli import main

main()

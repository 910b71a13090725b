"""python -m plancheck -> the command line."""
from .cli import main

raise SystemExit(main())

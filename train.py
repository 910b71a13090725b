"""Train plancheck's model from corpus/ (same as `plancheck train`)."""
from plancheck.train import main

raise SystemExit(main())

"""Train the section model: the same as `plancheck train` (see `plancheck train --help`)."""
import sys

from plancheck.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))

import sys

from zoo.cli import main

if __name__ == "__main__":  # `python -m zoo`; importing the module (doctest collection) runs nothing
    sys.exit(main())

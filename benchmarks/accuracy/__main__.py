import sys

from benchmarks.accuracy.run import main

if __name__ == "__main__":  # a spawned worker imports this module again
    sys.exit(main())

"""Entry script for the PyInstaller bundle: the same as the `composer` command.

freeze_support() must run first: `composer ingest` and `composer train` read MIDI files in worker
processes started with the "spawn" method, and in a frozen app each worker is this executable
started again with arguments that freeze_support() recognises and serves.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    from composer.launch import main

    sys.exit(main())

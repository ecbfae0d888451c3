"""A per-file worker that dies like a crashing native parser on files named 'crash*'.

Lives in its own module so that spawned worker processes can import it.
"""

import os
from pathlib import Path

from composer.core.corpus.worker import tokenize_file


def crash_on_some_files(path: str, config_json: str):
    if Path(path).name.startswith("crash"):
        os.abort()  # SIGABRT, as a segfaulting C++ parser would end the process
    return tokenize_file(path, config_json)

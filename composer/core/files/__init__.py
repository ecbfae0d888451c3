"""Files Composer writes and reads safely: atomic writes (atomic.py), folder locks (filelock.py),
reading what may be hostile (safe_files.py), and where the cache and data folders are
(folders.py)."""

"""`python -m composer` is the same as the `composer` command."""

import sys

from composer.launch import main

sys.exit(main())

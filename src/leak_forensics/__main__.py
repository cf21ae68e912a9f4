"""``python -m leak_forensics``: the same command line as ``leak-forensics``."""

import sys

from .cli import main

sys.exit(main())

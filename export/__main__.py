"""`python -m export ...` = `kpdd export ...` (useful before the kpdd CLI wires it, and in tests)."""

import sys

from export.cli import main

sys.exit(main())

"""`python -m dstui.emulator ...` (same as `dstui emulator ...`)."""

import sys

from dstui.emulator.cli import main

sys.exit(main())

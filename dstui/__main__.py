"""`python -m dstui` runs the same entry point as the `dstui` command."""

import sys

from dstui.cli import main

sys.exit(main())

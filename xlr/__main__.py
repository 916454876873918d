from __future__ import annotations

import sys

from xlr.cli.main import main

sys.exit(main())

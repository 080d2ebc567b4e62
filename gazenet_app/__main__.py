"""`python -m gazenet_app` starts the desktop app (the `gazenet` console script is the CLI)."""

import sys

from gazenet_app.ui.app import main

if __name__ == "__main__":
    sys.exit(main())

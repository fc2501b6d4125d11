"""``python -m wbe`` runs the command line."""

from wbe.cli import main

raise SystemExit(main())

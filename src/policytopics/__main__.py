"""``python -m policytopics``: see :mod:`policytopics.cli`."""

from policytopics.cli import main

raise SystemExit(main())

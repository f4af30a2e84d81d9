"""``python -m bot.cli``: the same as the ``podruga`` command."""

from bot.cli import main

raise SystemExit(main())

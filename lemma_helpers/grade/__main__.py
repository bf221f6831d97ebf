"""``python -m lemma_helpers.grade``: the ``lemma-grade`` command."""
import sys

from .cli import main

sys.exit(main())

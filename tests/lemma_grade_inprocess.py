"""``lemma-grade`` as a command whose grading runs notebooks in this process (no kernel, no sandbox):
``python tests/lemma_grade_inprocess.py ARGS`` is ``lemma-grade ARGS`` with :func:`inprocess.in_process`.
For tests/test_docs_commands.py, which runs the documentation's commands as a shell would."""
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from inprocess import in_process  # noqa: E402

if __name__ == "__main__":
    G = importlib.import_module("lemma_helpers.grading")
    with in_process():
        code = G.main(sys.argv[1:])
    sys.exit(code)

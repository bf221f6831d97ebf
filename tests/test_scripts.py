"""Generated parts of the notebooks are up to date with their scripts."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_navigation_links_are_current():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "nav.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_every_notebook_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("0[0-7]_*.ipynb")):
        assert f"`{nb.stem}`" in readme, nb.name

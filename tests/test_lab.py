"""`make lab` opens the course in JupyterLab: start the server as the Makefile does and ask it."""
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_makefile_lab_target_opens_the_start_notebook():
    makefile = (ROOT / "Makefile").read_text()
    assert "jupyter lab notebooks/00_start.ipynb" in makefile


def test_make_lab_starts_as_root_and_without_the_news_question():
    """As root JupyterLab stops ("Running as root is not recommended") unless given --allow-root, and its
    first-run question about Jupyter news covers the notebook: the Makefile deals with both."""
    import re

    makefile = (ROOT / "Makefile").read_text()
    assert "ALLOW_ROOT := $(if $(filter 0,$(shell id -u" in makefile
    assert "jupyter lab notebooks/00_start.ipynb $(ALLOW_ROOT) $(LAB_ARGS)" in makefile
    settings = json.loads(re.search(r"printf '%s\\n' '(\{.*\})' > \$@", makefile).group(1))
    news = settings["@jupyterlab/apputils-extension:notification"]
    assert news == {"fetchNews": "false", "checkForUpdates": False}
    schema = Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
    if schema.exists():                                  # the values are ones JupyterLab's settings accept
        props = json.loads(schema.read_text())["properties"]
        assert {"const": "false", "title": "Never"} in props["fetchNews"]["oneOf"]
        assert props["checkForUpdates"]["type"] == "boolean"


@pytest.mark.kernel
def test_jupyterlab_serves_the_course(tmp_path):
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           "--IdentityProvider.token=test-token", "--ServerApp.open_browser=False",
           f"--ServerApp.root_dir={ROOT}", "--allow-root"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**__import__("os").environ, "JUPYTER_RUNTIME_DIR": str(tmp_path)})
    try:
        deadline = time.time() + 60
        last = None
        while time.time() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/api/contents/notebooks/00_start.ipynb?token=test-token&content=0"
                with urllib.request.urlopen(url, timeout=5) as resp:
                    info = json.load(resp)
                break
            except OSError as exc:
                last = exc
                time.sleep(0.5)
        else:
            raise AssertionError(f"JupyterLab did not answer on port {port}: {last}")
        assert info["type"] == "notebook" and info["name"] == "00_start.ipynb"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token=test-token", timeout=10) as resp:
            assert resp.status == 200 and b"JupyterLab" in resp.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)

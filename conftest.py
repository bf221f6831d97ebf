"""pytest set-up shared by the unit tests and the notebook tests (nbval).

nbval runs each cell with ``store_history=False``. IPython decides whether a
trailing ``;`` silences a cell's value by looking at the last input in its
history, so under nbval (with the IPython versions of late 2026) a plot line
ending in ``;`` shows its value (``[<matplotlib.lines.Line2D ...>]``) although
it does not in JupyterLab, and the stored outputs no longer match. Running
the cells with history, as JupyterLab does, makes nbval see what a learner
sees.
"""


def pytest_configure(config):
    try:
        from nbval import kernel
    except ImportError:          # nbval not installed: nothing to set up
        return

    def execute_cell_input(self, cell_input, allow_stdin=None):
        return self.kc.execute(cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False)

    kernel.RunningKernel.execute_cell_input = execute_cell_input

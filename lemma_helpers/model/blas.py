"""One BLAS thread for the fit: the engine works on many tiny matrices, where threads only cost."""
from __future__ import annotations

import functools


@functools.cache
def _blas_controller():
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()  # finds the BLAS libraries once (reading them costs ~3 ms)


def one_blas_thread():
    """The engine works on many tiny matrices: threaded BLAS only adds overhead there."""
    return _blas_controller().limit(limits=1, user_api="blas")


def with_one_blas_thread(fn):
    """Decorator: run ``fn`` with one BLAS thread (results then do not depend on the thread count)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return fn(*args, **kwargs)
    return wrapper

"""How ``lemma-grade`` runs a submission: inside a bubblewrap sandbox, or (when asked) without one.

The sandbox is `bubblewrap <https://github.com/containers/bubblewrap>`_
(``bwrap``, the sandbox Flatpak uses; Debian package ``bubblewrap``). Each
submission gets a sandbox of its own that sees

* read-only: the system's programs and libraries (``/usr``), the Python that
  runs the grader with its packages, the course package, and the two
  downloaded course datasets (at ``/data``);
* writable: a fresh, size-limited ``/tmp`` in memory (its working folder and
  home are in there), gone when the run ends;
* nothing else: not the grader's files, arguments or environment (the
  environment is cleared and rebuilt from a short list), not the answer key,
  not the other submissions, not the output folder;
* no network (a network namespace with no interface but an unconfigured
  loopback), its own PID namespace (it cannot see or signal the grader or
  other kernels; ``/proc`` shows only its own processes), its own IPC and
  host name; every process it started is killed when its run ends, detached
  ones included, because the PID namespace ends with it.

When the grader runs as root, the runner inside gives up root for a user id
of its own (a fresh one for every submission, :func:`fresh_uid`) before any
submitted code runs, so the process-count limit applies and no capability is
left. The resource limits
(memory, CPU, processes, file size, output size) are set in
:mod:`lemma_helpers.grade.runner`.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

INSTALL_HINT = ("Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install "
                "bubblewrap) and grade again, or pass --no-sandbox to run submissions without one (read "
                "docs/GRADING.md first: a submitted notebook is a program and would run with your rights).")
UID_BASE = 2_000_000_000      # unprivileged user ids for sandboxes started by root: UID_BASE + a random offset
UID_SPAN = 2 ** 24            # ... below UID_BASE + UID_SPAN
SHM_MB = 64                   # size of the sandbox's /dev/shm (in memory); /dev itself is read-only
TASKS = 256                   # processes and threads one sandbox may have
INSIDE_DATA = "/data"
INSIDE_WORK = "/tmp/work"
INSIDE_HOME = "/tmp/home"
INSIDE_SCRATCH = "/tmp/.lemma"


@dataclass(frozen=True)
class Plan:
    """How to start the runner for one submission: the command, the environment and the runner's config.

    ``argv`` holds ``"{result_fd}"`` where the number of the runner's result pipe goes, and ``"{seccomp_fd}"``
    where the descriptor of ``seccomp`` (a system-call filter for bubblewrap) goes.
    """

    argv: list
    env: dict | None           # None: bwrap sets the environment inside
    config: dict = field(default_factory=dict)
    cwd: str | None = None
    seccomp: bytes | None = None


def tmp_mb(memory_mb: int) -> int:
    """The size of the sandbox's /tmp: an eighth of the submission's memory limit, at least 64 MB."""
    return max(64, memory_mb // 8)


# --------------------------------------------------------------------------
# The system-call filter: no kernel keyrings
# --------------------------------------------------------------------------

_ARCH = {"x86_64": 0xC000003E, "i386": 0x40000003, "aarch64": 0xC00000B7}
# add_key, request_key, keyctl by architecture (x86_64 also in its x32 numbering, and i386 code can run there)
_KEYRING_CALLS = {"x86_64": (248, 249, 250, 0x40000000 | 248, 0x40000000 | 249, 0x40000000 | 250),
                  "i386": (286, 287, 288), "aarch64": (217, 218, 219)}
_LD_ABS, _JEQ, _RET = 0x20, 0x15, 0x06             # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
_ALLOW, _ERRNO_EPERM = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM


def keyring_filter() -> bytes:
    """A seccomp program (classic BPF, for ``bwrap --seccomp``) that refuses the kernel-keyring system calls
    with EPERM and allows everything else: keyrings are kept per user by the kernel, outside every namespace,
    so a submission could leave data there for another."""
    program = [(_LD_ABS, 0, 0, 4)]                                     # A = seccomp_data.arch
    jumps = []
    for arch, calls in _KEYRING_CALLS.items():
        program.append((_JEQ, 0, len(calls) + 2, _ARCH[arch]))         # another arch: skip this block
        program.append((_LD_ABS, 0, 0, 0))                             # A = seccomp_data.nr
        for call in calls:
            jumps.append(len(program))
            program.append((_JEQ, 0, 0, call))                         # jt set below: to the refusal
        program.append((_RET, 0, 0, _ALLOW))
    program.append((_RET, 0, 0, _ALLOW))                               # an architecture not listed
    deny = len(program)
    program.append((_RET, 0, 0, _ERRNO_EPERM))
    for i in jumps:
        code, _, jf, k = program[i]
        program[i] = (code, deny - i - 1, jf, k)
    return b"".join(struct.pack("=HBBI", *ins) for ins in program)


def bwrap() -> str | None:
    """The path of ``bwrap``, or None."""
    return shutil.which("bwrap")


def _runner_cmd(python: str) -> list:
    # a script, not ``-m lemma_helpers.grade.runner``: -m would import the whole course package (and
    # matplotlib) before the runner gives up root
    return [python, str(Path(__file__).resolve().parent / "runner.py"), "{result_fd}"]


def _package_dir() -> Path:
    """The course package (``lemma_helpers``), which the sandbox sees read-only."""
    return Path(__file__).resolve().parent.parent


def _python_roots() -> list:
    """Folders the Python that runs the grader needs: its installation (where its executable really is), the
    environment, the folders of packages on its path (a user's or another environment's site-packages), and
    the course package."""
    roots = []
    installed = os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))
    packages = [p for p in sys.path if os.path.basename(p.rstrip("/")) in ("site-packages", "dist-packages")]
    for p in (sys.base_prefix, sys.prefix, installed, *packages, str(_package_dir())):
        real = os.path.realpath(p)
        for q in {p, real}:
            if os.path.isdir(q):
                roots.append(q)
    roots = sorted(set(roots), key=len)
    return [r for i, r in enumerate(roots) if not any(r.startswith(o.rstrip("/") + "/") for o in roots[:i])]


def available_data() -> tuple:
    """``({file name: host path}, [problems])`` for the downloaded course datasets.

    Each is found (or downloaded and checked) here, outside the sandbox,
    which has no network.
    """
    from .. import datasets

    found, problems = {}, []
    for name, d in datasets._REGISTRY.items():
        if d.url is None:         # bundled inside the package, which the sandbox sees
            continue
        try:
            found[d.filename] = str(datasets.data_path(name))
        except Exception as err:  # noqa: BLE001 - reported in the summary
            problems.append(f"the {name} data could not be made available to submissions: {err}")
    return found, problems


def _system_binds() -> list:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for f in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives",
              "/etc/fonts", "/etc/mime.types"):
        args += ["--ro-bind-try", f, f]
    return args


def inside_env(python: str) -> dict:
    """The whole environment of a sandboxed run (nothing of the grader's own is passed on)."""
    return {
        "PATH": f"{os.path.dirname(python)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": INSIDE_HOME, "USER": "student", "LOGNAME": "student", "LANG": "C.UTF-8", "TMPDIR": INSIDE_WORK,
        "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "MPLCONFIGDIR": f"{INSIDE_SCRATCH}/mpl", "IPYTHONDIR": f"{INSIDE_SCRATCH}/ipython",
        "JUPYTER_RUNTIME_DIR": f"{INSIDE_SCRATCH}/runtime", "JUPYTER_DATA_DIR": f"{INSIDE_SCRATCH}/jupyter",
        "JUPYTER_CONFIG_DIR": f"{INSIDE_SCRATCH}/jupyter-config", "JUPYTER_PLATFORM_DIRS": "1",
        "XDG_CACHE_HOME": f"{INSIDE_SCRATCH}/cache", "LEMMA_CACHE_DIR": f"{INSIDE_SCRATCH}/cache",
        "LEMMA_DATA_DIR": INSIDE_DATA, "LEMMA_GRADING": "1", "LEMMA_CHECK_MODE": "record",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # the course package the grader itself imported (mounted at its own path): the kernels import that copy,
        # also when the grader runs from a checkout or with PYTHONPATH rather than from the environment's install
        "PYTHONPATH": os.path.dirname(str(_package_dir())),
    }


def _tasks_of(uid: int) -> int:
    """Processes and threads that user ``uid`` has now (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                pass
    return count


def fresh_uid(rng=None) -> int:
    """A user id for one sandboxed run started by root: drawn at random from a range no account uses, and
    used by no process now. Every submission gets its own, so no two runs (in this grading, in another one
    on the same machine, or in a later one) share a user's process limit or anything else kept per user."""
    import secrets

    for _ in range(100):
        uid = UID_BASE + (rng.randrange(UID_SPAN) if rng is not None else secrets.randbelow(UID_SPAN))
        if _tasks_of(uid) == 0:
            return uid
    raise RuntimeError("no free user id for a sandbox")     # pragma: no cover - 16 million ids


def sandbox_plan(data: dict, *, jobs: int = 1, memory_mb: int = 4096, python: str | None = None) -> Plan:
    """The bwrap command for one submission's run.

    The memory a submission may use is ``memory_mb`` in all: its writable
    folders in memory (``/tmp`` and ``/dev/shm``) are taken from it, and the
    kernel's address-space limit is the rest.
    """
    python = python or sys.executable
    root = os.geteuid() == 0
    args = [bwrap() or "bwrap", "--die-with-parent", "--new-session"]
    if root:   # no user namespace: the runner drops root itself (see lemma_helpers.grade.runner.confine)
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                 "--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        uid, tasks = fresh_uid(), TASKS
    else:
        args += ["--unshare-all", "--cap-drop", "ALL"]
        uid, tasks = None, _tasks_of(os.getuid()) + TASKS * max(1, jobs)
    tmp = tmp_mb(memory_mb)
    args += ["--hostname", "lemma-grade", "--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(SHM_MB * 1024 * 1024), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
             "--perms", "1777", "--size", str(tmp * 1024 * 1024), "--tmpfs", "/tmp",
             "--seccomp", "{seccomp_fd}"]
    args += _system_binds()
    binds = [(d, d) for d in _python_roots()] + [(host, f"{INSIDE_DATA}/{name}") for name, host in sorted(data.items())]
    made = set()
    for _, dest in binds:          # parent folders readable by the sandbox's user (bwrap would copy modes like 0700)
        for parent in reversed(Path(dest).parents):
            if str(parent) not in made and str(parent) not in ("/", "/usr", "/tmp") and not str(parent).startswith("/usr/"):
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
    for host, dest in binds:
        args += ["--ro-bind", host, dest]
    args += ["--clearenv"]
    for k, v in inside_env(python).items():
        args += ["--setenv", k, v]
    args += ["--chdir", "/tmp", "--", *_runner_cmd(python)]
    config = {"uid": uid, "max_processes": tasks, "max_file_mb": 100, "kernel_memory_mb": memory_mb - tmp - SHM_MB,
              "work": INSIDE_WORK, "home": INSIDE_HOME, "scratch": INSIDE_SCRATCH}
    return Plan(argv=args, env=None, config=config, seccomp=keyring_filter())


_KEEP = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_NUMERIC", "TZ", "PYTHONPATH", "SYSTEMROOT")


def plain_plan(work: Path, python: str | None = None) -> Plan:
    """No sandbox: the runner as an ordinary process in ``work``, with a trimmed environment."""
    python = python or sys.executable
    env = {k: os.environ[k] for k in _KEEP if k in os.environ}
    scratch = work / ".lemma"
    env.update(HOME=str(work / "home"), TMPDIR=str(work / "work"), USER="student", LOGNAME="student",
               PYTHONHASHSEED="0", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               MPLCONFIGDIR=str(scratch / "mpl"), IPYTHONDIR=str(scratch / "ipython"),
               JUPYTER_RUNTIME_DIR=str(scratch / "runtime"), JUPYTER_DATA_DIR=str(scratch / "jupyter"),
               JUPYTER_CONFIG_DIR=str(scratch / "jupyter-config"), JUPYTER_PLATFORM_DIRS="1",
               LEMMA_GRADING="1", LEMMA_CHECK_MODE="record", PYDEVD_DISABLE_FILE_VALIDATION="1")
    for k in ("LEMMA_DATA_DIR", "LEMMA_CACHE_DIR", "XDG_CACHE_HOME"):
        if k in os.environ:
            env[k] = os.environ[k]
    config = {"uid": None, "max_processes": None, "max_file_mb": 100,
              "work": str(work / "work"), "home": str(work / "home"), "scratch": str(scratch)}
    return Plan(argv=_runner_cmd(python), env=env, config=config, cwd=str(work))


def probe(data: dict) -> str | None:
    """None when the sandbox works here; otherwise why not, with what to do."""
    if sys.platform != "linux":
        return f"The sandbox needs Linux (this is {sys.platform}). " + INSTALL_HINT
    if bwrap() is None:
        return "bubblewrap (bwrap) is not installed. " + INSTALL_HINT
    plan = sandbox_plan(data)
    argv = plan.argv[:plan.argv.index("--") + 1] + [plan.argv[-3], "-c", "import nbclient, lemma_helpers"]
    read_fd, write_fd = os.pipe()
    os.write(write_fd, plan.seccomp)
    os.close(write_fd)
    try:
        res = subprocess.run([str(read_fd) if a == "{seccomp_fd}" else a for a in argv], capture_output=True,
                             timeout=60, stdin=subprocess.DEVNULL, pass_fds=(read_fd,))
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap could not be started ({err}). " + INSTALL_HINT
    finally:
        os.close(read_fd)
    if res.returncode != 0:
        why = res.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        if "ModuleNotFoundError" in why[0]:
            return (f"the sandbox started, but its Python could not import what a notebook needs ({why[0][:200]}): "
                    f"the sandbox sees only {sys.prefix} and the course package at {_package_dir()}. Install "
                    "nbclient and ipykernel into that environment (pip install lemma-helpers).")
        return (f"bubblewrap is installed but could not start a sandbox here ({why[0][:300]}). On some "
                "systems unprivileged user namespaces are switched off (sysctl kernel.unprivileged_userns_clone"
                " or an AppArmor rule): ask the system's administrator, or pass --no-sandbox.")
    return None

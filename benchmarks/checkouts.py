"""Checkouts of this repository for side-by-side runs, each importing its own code.

``benchmarks.versus`` runs two versions of the blog at once. Each is a
:class:`Tree`: a directory used as it is, or a revision checked out with
``git worktree add --detach`` into a temporary directory that is removed when
the run ends (also on an error, Ctrl-C or SIGTERM). A process started in a
checkout gets it first on ``PYTHONPATH`` (:func:`checkout_environment`), and
:func:`check_origins` proves that the project's modules it imported came from
that checkout, not from the editable install of this one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.environment import ROOT


@dataclasses.dataclass(frozen=True)
class Tree:
    """One checkout under test.

    Attributes:
        label: ``"old"`` or ``"new"``.
        spec: what the user named: a revision, or a directory used as it is.
        path: the checkout's top directory.
        commit: the commit it is at (``HEAD`` for a directory).
        dirty: whether ``miniflask/`` or ``blog_api/`` have uncommitted edits there.
        worktree: whether ``materialise`` checked it out (else it was a directory).
    """

    label: str
    spec: str
    path: Path
    commit: str
    dirty: bool
    worktree: bool

    def record(self) -> dict[str, Any]:
        """The JSON form, for the results file."""
        return {**dataclasses.asdict(self), "path": str(self.path), "described": self.describe()}

    def describe(self) -> str:
        """``74f8f4a (74f8f4a0ea39)`` or ``/work/main at 756492f25dcc, with uncommitted edits``."""
        if self.worktree:
            return f"`{self.spec}` ({self.commit[:12]})"
        edits = ", with uncommitted edits" if self.dirty else ""
        return f"`{self.path}` at {self.commit[:12]}{edits}"


def git(directory: Path, *args: str) -> str:
    """Run ``git`` in ``directory``; its standard output, stripped.

    Raises:
        RuntimeError: git failed; the message holds its error output.
    """
    done = subprocess.run(
        ["git", *args], cwd=directory, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def materialise(label: str, spec: str, stack: contextlib.ExitStack) -> Tree:
    """A checkout of ``spec``: an existing directory as it is, or a revision in a new worktree.

    A revision is checked out detached into a temporary directory; ``stack``
    removes the worktree (and its registration in ``.git``) when it closes,
    however the run ends.

    Raises:
        RuntimeError: ``spec`` is neither a directory nor a revision.
    """
    if Path(spec).is_dir():
        path = Path(spec).resolve()
        changes = git(path, "status", "--porcelain", "--", "miniflask", "blog_api")
        commit = git(path, "rev-parse", "HEAD")
        return Tree(label, spec, path, commit, bool(changes), worktree=False)
    try:
        commit = git(ROOT, "rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}")
    except RuntimeError:
        raise RuntimeError(f"{spec!r} is neither a directory nor a revision") from None
    parent = Path(tempfile.mkdtemp(prefix=f"versus-{label}-"))
    path = parent / "tree"
    # Registered before the checkout starts: a Ctrl-C in the middle of
    # ``worktree add`` can leave a registration behind, which this removes too.
    stack.callback(discard_worktree, path, parent)
    git(ROOT, "worktree", "add", "--detach", "--quiet", str(path), commit)
    return Tree(label, spec, path, commit, dirty=False, worktree=True)


def discard_worktree(path: Path, parent: Path) -> None:
    """Remove a worktree made by ``materialise``: the files, then git's record of it."""
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(path)],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        check=False,
    )
    shutil.rmtree(parent, ignore_errors=True)
    # Drops the registration if ``remove`` could not (the checkout had not finished).
    git(ROOT, "worktree", "prune")


def checkout_environment(tree: Tree) -> dict[str, str]:
    """The calling environment without ``BLOG_*``/``BENCH_*``, with ``tree`` on ``PYTHONPATH``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "BENCH_"))}
    environment["PYTHONPATH"] = str(tree.path)
    return environment


def check_origins(tree: Tree, modules: Mapping[str, str | None]) -> None:
    """Fail unless every imported project module's file lies inside ``tree``.

    Raises:
        RuntimeError: a module came from elsewhere (the editable install, say).
    """
    for name, file in modules.items():
        if file is not None and not Path(file).resolve().is_relative_to(tree.path.resolve()):
            raise RuntimeError(
                f"the {tree.label} checkout imported {name} from {file}, not from {tree.path}"
            )

"""The one place where the runner learns who executes which kind of node."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelkit.core.manifest import NO_OP_TYPES
from modelkit.execute.clone import CLONED, CloneExecutor
from modelkit.execute.noop import NoOpExecutor
from modelkit.execute.runner import NodeExecutor, Runner
from modelkit.execute.runplan import Reporter, RunOptions
from modelkit.testing.batch import BATCH_SIZE, DataTestExecutor
from modelkit.testing.unittests import UnitTestExecutor

if TYPE_CHECKING:
    from modelkit.api.session import Session


def executors_for(options: RunOptions) -> dict[str, NodeExecutor]:
    """Executors by resource type for one run; models, seeds and snapshots are the runner's own.

    Data tests run in batches in the ``test`` command (``test_batch_size`` tests per statement; 1:
    one by one); in ``build`` each test runs right after its node, alone, and exposures and saved queries are
    reported as NO-OP. ``clone`` clones every node.
    """
    if options.command == "clone":
        clone = CloneExecutor()
        return dict.fromkeys(CLONED, clone)
    batch_size = None
    if options.command == "test":
        batch_size = BATCH_SIZE if options.test_batch_size is None else options.test_batch_size
    no_op = NoOpExecutor()
    return {"test": DataTestExecutor(batch_size), "unit_test": UnitTestExecutor(), **dict.fromkeys(NO_OP_TYPES, no_op)}


def make_runner(session: Session, options: RunOptions, reporter: Reporter | None = None) -> Runner:
    """A runner for one command over ``session``, with the executors that command uses."""
    return Runner(session.execution(), options, reporter, executors_for(options))

"""Prefect tasks wrapping the core.

Prefect logs "Finished in state Completed()" for every task run at INFO: in a BO run that is four
lines in five, burying the lines a person reads (one per round, cell or trial batch). Those lines
are dropped here, in every process that runs tunefleet's tasks; a task run's other ends (failed,
crashed, cancelled, retrying) are still logged.

Ctrl-C ends a run with one line, not a traceback: Prefect logs the interrupt with one, and also any
error the interrupt causes inside its engine (seen: ``ValueError('Task run is not set')`` when it
lands while a task run is being created). Those records keep their line and lose the traceback.
"""

import logging


class _QuietCompletions(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Finished in state Completed()"


class _InterruptsWithoutTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and _caused_by_interrupt(record.exc_info[1]):
            record.exc_info = record.exc_text = None
        return True


def _caused_by_interrupt(error: BaseException | None) -> bool:
    """Whether ``error`` is a KeyboardInterrupt, or was raised while one was being handled."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


logging.getLogger("prefect.task_runs").addFilter(_QuietCompletions())
for _name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
    logging.getLogger(_name).addFilter(_InterruptsWithoutTracebacks())

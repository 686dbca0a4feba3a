"""Prefect tasks wrapping the core.

Prefect logs "Finished in state Completed()" for every task run at INFO: in a BO run that is four
lines in five, burying the lines a person reads (one per round, cell or trial batch). Those lines
are dropped here, in every process that runs tunefleet's tasks; a task run's other ends (failed,
crashed, cancelled, retrying) are still logged.

Ctrl-C ends a run with one line, not a traceback: Prefect logs the interrupt with one, and also any
error the interrupt causes inside its engine (seen: ``ValueError('Task run is not set')`` when it
lands while a task run is being created). Those records keep their line and lose the traceback,
and the CLI ends such an error as it ends the interrupt (``tunefleet.errors.caused_by_interrupt``).
"""

import logging

from tunefleet.errors import caused_by_interrupt


class _QuietCompletions(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Finished in state Completed()"


class _InterruptsWithoutTracebacks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and caused_by_interrupt(record.exc_info[1]):
            record.exc_info = record.exc_text = None
        return True


logging.getLogger("prefect.task_runs").addFilter(_QuietCompletions())
for _name in ("prefect.flow_runs", "prefect.task_runs", "prefect.engine"):
    logging.getLogger(_name).addFilter(_InterruptsWithoutTracebacks())

"""Prefect tasks wrapping the core.

Prefect logs "Finished in state Completed()" for every task run at INFO: in a BO run that is four
lines in five, burying the lines a person reads (one per round, cell or trial batch). Those lines
are dropped here, in every process that runs tunefleet's tasks; a task run's other ends (failed,
crashed, cancelled, retrying) are still logged.
"""

import logging


class _QuietCompletions(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Finished in state Completed()"


logging.getLogger("prefect.task_runs").addFilter(_QuietCompletions())

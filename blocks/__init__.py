"""Prefect Block classes: where tunefleet's database, artifact store and compute live.

Register them with ``prefect block register -m blocks``. A flow reads the blocks named
by ``TUNEFLEET_DATABASE_BLOCK`` / ``TUNEFLEET_STORAGE_BLOCK`` (see ``tasks.context``), so
credentials live in Prefect's encrypted block storage instead of YAML or code.
"""

from blocks.compute import ComputeCluster
from blocks.storage import TunefleetDatabase, TunefleetStorage

__all__ = ["ComputeCluster", "TunefleetDatabase", "TunefleetStorage"]

"""Prefect Block classes (``storage``: the database and the artifact store; ``compute``: a cluster) and
``context``, the settings they override.

``tunefleet deploy`` registers the block types (or ``prefect block register -m blocks.storage`` and
``-m blocks.compute``). A flow reads the blocks named by ``TUNEFLEET_DATABASE_BLOCK`` /
``TUNEFLEET_STORAGE_BLOCK`` (see ``blocks.context``), so credentials live in Prefect's encrypted
block storage instead of YAML or code. This package imports nothing itself: ``blocks.context``
loads Prefect only when a block is named, so the CLI starts fast.
"""

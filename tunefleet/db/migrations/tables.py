"""Every capability's tables on ``SQLModel.metadata``: what the migrations build, what the schema
checks compare, and what foreign keys resolve against (an experiment's ``owner_id`` names
``users.id``: without the users table registered, the first flush of an experiment fails)."""


def register() -> None:
    """Import every module that declares tables (once; later calls cost nothing)."""
    import tunefleet.bench.tables  # noqa: F401
    import tunefleet.bo.tables  # noqa: F401
    import tunefleet.hwtune.tables  # noqa: F401
    import tunefleet.ridge.tables  # noqa: F401
    import tunefleet.sweep.tables  # noqa: F401
    import tunefleet.users  # noqa: F401

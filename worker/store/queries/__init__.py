"""Read-side queries shared by the dashboard and the CLI: filtering, paging and
aggregation happen in SQL so pages stay responsive with a million journal rows.
Every function takes an ``Engine`` and returns plain values (dataclasses, dicts, tuples),
never live ORM objects, so results can be cached and pickled."""

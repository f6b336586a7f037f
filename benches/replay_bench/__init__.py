"""The parts of ``benches/cache_replay.py``: the peers compared (``peers``), the trace and its
oracleGeneral copy for libCacheSim (``trace``), the timed cases and the rows they give (``measure``),
the memory probes in fresh processes (``memory``) and the tables and JSON (``report``)."""

"""Run argilla-server's command line with the SQL search engine registered.

    python launcher.py start --host 127.0.0.1 --port 6900     # the server
    python launcher.py worker --num-workers 1                # the rq worker (webhooks, jobs)
    python launcher.py database migrate                      # any other server command

argilla-server picks its search engine from a registry filled at import time, by name
(``ARGILLA_SEARCH_ENGINE=sql``), so the engine's module has to be imported first, in every process
that may search: the server, and the rq worker whose jobs (forked from it) use the engine too.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sql_search_engine  # noqa: F401  (registers the "sql" engine)
from argilla_server.cli import app

if __name__ == "__main__":
    app(prog_name="argilla_server")

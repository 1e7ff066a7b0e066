"""Start the API with uvicorn, configured from the same settings as the app.

This is the container's command: `python -m <package>.serve`.
"""

from __future__ import annotations

import uvicorn

from .api import create_app
from .config import Settings


def main() -> None:
    """Run the server until interrupted."""
    settings = Settings()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()

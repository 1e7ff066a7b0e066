"""scaffold: generate fully wired ML model-service repositories and keep them up to date."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scaffold")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

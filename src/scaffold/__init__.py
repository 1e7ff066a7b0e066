"""scaffold: generate fully wired ML model-service repositories and keep them up to date."""

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "scaffold-golden-path"  # the name on the package index (copier.yml, pyproject.toml)

try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

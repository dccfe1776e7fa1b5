"""incident-response: the incident commander's assistant."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("incident-response")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

"""Domain errors, defined once; the web layer maps them to HTTP statuses."""


class CsmapError(Exception):
    """Base class for every error this project raises on purpose."""


class CRSError(CsmapError, ValueError):
    """A frame has no CRS, or two frames that must share one do not."""


class SourceDataError(CsmapError):
    """A reference source file is missing or unreadable."""


class SchoolDataError(CsmapError, ValueError):
    """A school list cannot be read, or lacks a required column."""


class BuildError(CsmapError):
    """A build step failed; the previous good build is left in place."""


class NoBuildError(CsmapError):
    """No build exists in the data folder yet."""


class GeocodeError(CsmapError):
    """A geocoding provider failed or answered with something unparseable."""


class InvalidParameterError(CsmapError, ValueError):
    """A caller passed a bad parameter (the message names it)."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(message)


class NotFoundError(CsmapError, LookupError):
    """A requested state, school, collection or feature does not exist."""


class OfflineAssetError(CsmapError):
    """A map needs a JavaScript/CSS asset that is not vendored under webmap/static/vendor."""

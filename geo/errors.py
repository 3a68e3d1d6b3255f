"""Domain errors, defined once; each carries the HTTP status the web layer answers it with.

As pygeoapi's provider errors do, an error class says its own ``http_status``
and OGC API exception ``ogc_code`` (OGC 17-069r4 §7.5.1); ``webmap.errors`` turns
any :class:`CsmapError` into a response in one place. The codes are plain
integers and strings, so ``geo/`` still knows nothing of a web framework.
"""


class CsmapError(Exception):
    """Base class for every error this project raises on purpose.

    An error whose ``http_status`` is 500 is a fault of ours: the web layer
    logs it and does not show its message.
    """

    http_status: int = 500
    ogc_code: str = "NoApplicableCode"


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

    http_status = 503
    ogc_code = "ServiceUnavailable"


class BuildChangedError(CsmapError):
    """A request names a build that is no longer the one served (reload the page)."""

    http_status = 409
    ogc_code = "Conflict"


class GeocodeError(CsmapError):
    """A geocoding provider failed or answered with something unparseable."""


class InvalidParameterError(CsmapError, ValueError):
    """A caller passed a bad parameter (the message names it)."""

    http_status = 400
    ogc_code = "InvalidParameterValue"

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(message)


class NotFoundError(CsmapError, LookupError):
    """A requested state, school, collection or feature does not exist."""

    http_status = 404
    ogc_code = "NotFound"


class OfflineAssetError(CsmapError):
    """A map needs a JavaScript/CSS asset that is not vendored under webmap/static/vendor."""

"""Errors a user can fix. The CLI prints their message as one line and exits non-zero."""


class PaperchatError(Exception):
    exit_code = 2


class IndexMissing(PaperchatError):
    pass


class IndexLocked(PaperchatError):
    pass


class IndexDamaged(PaperchatError):
    pass


class ModelMismatch(PaperchatError):
    pass


class BadInput(PaperchatError, ValueError):
    """Bad arguments or input data. Also a ValueError, so Python API callers can catch either."""


class BadSettings(BadInput):
    pass


def explain(exc: BaseException) -> str | None:
    """One actionable line for failures that are not PaperchatErrors but have a known cause
    (the environment, not a bug); None when the cause is unknown."""
    text = (str(exc).strip().splitlines() or [""])[0][:200]
    low = text.lower()
    if isinstance(exc, MemoryError):
        return "ran out of memory: give the process more memory or ingest the inputs in smaller parts"
    if any(s in low for s in ("malformed", "not a database", "file is encrypted", "failed to pull logs")):
        return (f"the index is damaged ({text}): move the index folder (PAPERCHAT_INDEX_DIR) away and run "
                "`paperchat ingest` to build it again")
    if "readonly database" in low or "read-only file system" in low:
        return f"the index is on a read-only file system ({text}): ingest needs write access; ask and search only read"
    if "disk is full" in low or "no space left" in low:
        return f"the disk is full ({text}): free some space and run the command again"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or text}: check who owns that file or folder"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror.lower()}{where}"
    return None

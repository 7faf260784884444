"""The store's one error, apart from SQLAlchemy so that callers need not import it."""


class StoreError(RuntimeError):
    """The store could not be reached or answered wrongly; the message has no secret in it."""

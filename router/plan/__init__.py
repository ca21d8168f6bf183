"""The board's plan: encounters, campaigns, targets, the sales leads, the monthly report."""
from __future__ import annotations


class FieldError(ValueError):
    """A value that cannot be taken: str() is the English sentence the API answers with; `field`, `key` and `values`
    let a form say it in its reader's language (the catalogue's `form.<key>`, the field by its label)."""

    def __init__(self, message: str, field: str, key: str, **values: object) -> None:
        super().__init__(message)
        self.field, self.key, self.values = field, key, values

"""Rasa checks each custom action's response with `jsonschema.validate`, which first re-validates Rasa's own
response schema against the draft 2020-12 metaschema, on every call. py-spy on `make bench-load` put that at
half of Rasa's CPU per turn. The schema never changes: its validator is built once and only the response is
checked, with the same error message as Rasa's.

This replaces a private method of Rasa 3.6 (Rasa offers no public hook for it): `install` refuses to start when
the method is not there or takes other arguments, so an upgrade of Rasa stops the bot loudly instead of
silently checking nothing (requirements/bot.lock pins Rasa).
"""
import inspect
from typing import Any, Dict

from jsonschema import validators
from jsonschema.exceptions import ValidationError, best_match
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_VALIDATOR = None


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    global _VALIDATOR
    if _VALIDATOR is None:
        schema = RemoteAction.action_response_format_spec()
        _VALIDATOR = validators.validator_for(schema)(schema)
    error = best_match(_VALIDATOR.iter_errors(result))
    if error is not None:
        error.message += (". Failed to validate Action server response from API, make sure your response from the "
                          f"Action endpoint is valid. For more information about the format visit "
                          f"{DOCS_BASE_URL}/custom-actions")
        raise error
    return True


def install() -> None:
    """Replace Rasa's per-call schema check with the cached validator (idempotent)."""
    original = getattr(RemoteAction, "_validate_action_result", None)
    if original is None or list(inspect.signature(original).parameters) != ["self", "result"]:
        raise RuntimeError("Rasa's RemoteAction._validate_action_result changed: review bot/components/"
                           "action_validation.py for this Rasa version")
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


__all__ = ["install", "ValidationError"]

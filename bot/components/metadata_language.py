"""The customer's language, as the router detected it for this message, as an entity the `language` slot maps."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

LANGUAGES = {"fi", "sv", "en"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class MetadataLanguage(GraphComponent, EntityExtractorMixin):
    """Reads `metadata.language` (fi, sv or en) of each message into a `language` entity.

    The router follows the customer's language message by message (router/inbound/language.py); the slot that
    picks every response's variant follows it through this entity without a call to the action server.
    """

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MetadataLanguage":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            language = (message.get("metadata") or {}).get("language")
            if language in LANGUAGES:
                entity = {"entity": "language", "value": language, "start": 0, "end": 0,
                          "extractor": self.__class__.__name__}
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages

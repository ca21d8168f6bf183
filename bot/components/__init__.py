"""Custom Rasa components; importing them (Rasa does, for the pipeline) also installs the action-response speed-up."""
from bot.components import action_validation

action_validation.install()

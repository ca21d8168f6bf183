"""Channel adapters: each parses its provider's input and renders the answer."""

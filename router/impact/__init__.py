"""Impact: monthly rollups and the charts of the public page."""

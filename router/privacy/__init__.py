"""Personal data: one person's export and erasure, retention, the privacy notice."""

"""The board's plan: encounters, campaigns, targets, the sales leads, the monthly report."""

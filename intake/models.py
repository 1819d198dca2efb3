"""Models of this stage arrive with its issue."""

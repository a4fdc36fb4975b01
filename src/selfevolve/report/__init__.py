"""HTML and PNG run reports built from the store."""

"""One module per CLI verb (see motorsign.cli.VERBS)."""

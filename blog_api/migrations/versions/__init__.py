"""One module per schema revision, oldest first: ``0001_initial`` is the schema of ``models.py``
as it stood when migrations began; each later file changes it one step."""

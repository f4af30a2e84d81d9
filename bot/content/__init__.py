"""Content: the only code that reads the files staff edit (flows, catalogs, directory).

Each loader checks what it reads and reports every problem as a ``DataError``
with the file and line; ``world`` loads them together for the engine.
"""

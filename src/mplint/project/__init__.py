"""Project-wide analysis: calls, workers and state followed across the modules of a project.

`resolver.py` finds modules as Python's import system does, inside the project; `scan.py` reads a
file's imports from its text (the prefilter's second step); `summary.py` makes each module's small,
cached summary from its facts; `link.py` computes the cross-module facts over the summaries to a
fixpoint; `session.py` decides, for a run, which modules are read and which are summarised.
"""

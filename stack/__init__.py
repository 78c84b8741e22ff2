"""The native stack's launcher: install, render the configs, start everything under Monit, stop it.

`python -m stack up|down|status|drill`; the Makefile wraps these. stack.install runs on the plain
system Python (standard library only), before the virtualenv exists.
"""

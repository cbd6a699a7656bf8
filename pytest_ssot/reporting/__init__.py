"""Reporters render a finished :class:`~pytest_ssot.policy.Result`; they decide nothing."""

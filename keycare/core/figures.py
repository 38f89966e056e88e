"""Tell whoever keeps derived figures that an account's figures changed.

The apps that change what an account's figures are made of (accounts: orders and the
hierarchy; dataio: the imports; service: ticket costs, ratings, NPS answers) call
``account_figures_changed(account_ids=...)`` inside their transaction. The apps that keep
figures derived from them (insights: the metrics table) register a listener at start-up
(``figures_listener``), which typically enqueues its refresh on commit.

Why a registry here and not a direct call: insights already depends on accounts and
service (it reads their tables), so accounts or service calling into insights would make
the domain apps depend on each other both ways. The callers know only this module in
core, which knows no app; no Django signal is involved, so every call site is explicit.
"""

from collections.abc import Callable, Iterable, Sequence

Listener = Callable[[Sequence[int]], None]
_LISTENERS: list[Listener] = []


def figures_listener(listener: Listener) -> Listener:
    """Register a listener (once, whatever the number of calls); usable as a decorator."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def account_figures_changed(*, account_ids: Iterable[int | None]) -> None:
    """The figures of these accounts changed (or may have): each listener gets the sorted,
    distinct ids once. Call it once per write — an import once with every affected
    account, not once per row. Nothing happens for no ids."""
    ids = sorted({int(pk) for pk in account_ids if pk is not None})
    if not ids:
        return
    for listener in list(_LISTENERS):
        listener(ids)

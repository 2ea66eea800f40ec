"""A planted defect for the history checker's negative control (never on a real path).

Put this folder first on PYTHONPATH with BOXOFFICE_MUTANT=no-client-token and every
process of the local cloud starts with the defect this issue removed: transactions
go out without our ClientRequestToken, and a failed condition on our own fresh order
counts as a failure. botocore fills in a token of its own per call when none is
given, which covers its own retries only; so the mutant also leaves retries to our
code (one attempt per botocore call), the way a client timeout leaves them to the
client. With lost answers injected, a committed purchase is then answered 409 and
its payment refunded; the checker must say so.
"""

import os

if os.environ.get("BOXOFFICE_MUTANT") == "no-client-token":
    from pynamodb import transactions

    from chalicelib.store import table, tx

    table.RETRIES["total_max_attempts"] = 1

    _init = transactions.TransactWrite.__init__
    _put = tx.Tx.put

    def _init_without_token(self, *args, client_request_token=None, **kwargs):  # type: ignore[no-untyped-def]
        _init(self, *args, client_request_token=None, **kwargs)

    def _put_never_fresh(self, tag, model, condition=None, fresh=False):  # type: ignore[no-untyped-def]
        return _put(self, tag, model, condition)

    transactions.TransactWrite.__init__ = _init_without_token
    tx.Tx.put = _put_never_fresh

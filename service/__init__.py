"""The run service: how trials reach workers and results reach people, apart from the numerics in
``core/``. ``runner`` (a trial and how one executes), ``engine`` (runs shared by every session:
queues, fairness, cancellation, retries), ``pools`` (local processes and threads), ``dask_pool`` (a Dask cluster's), ``cancel``
(the signal a running trial polls), ``store`` (finished results in SQLite), ``code_version`` (the
hash of the code that computes results: the store's keys, the cluster's version check),
``cluster`` (the Dask launcher and the check of a cluster's workers)."""

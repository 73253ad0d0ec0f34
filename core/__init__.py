"""The numerical core, as the lecture writes it: the network and its training (``mlp``, ``stack``
for several networks trained as one), optimisers, schedules, data sets and splits, metrics. No
parallelism, storage or UI: those are ``service``'s and ``ui``'s."""

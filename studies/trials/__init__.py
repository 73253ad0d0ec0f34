"""The trial code of the studies that need their own (the others run ``studies.common.training``).

Apart from the study modules, which import Altair for their charts: a worker unpickles a study's
``TRIAL`` by reference and so imports its module, and Altair would cost every fresh worker 0.2 s
and its memory for nothing it uses."""

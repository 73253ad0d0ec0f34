"""The machinery every study shares: parameter schema, trial and tables, running on the engine,
cost estimates, charts, takeaways and the HTML report. The studies themselves are the modules of
``studies/``."""

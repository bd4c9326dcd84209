"""The benchmark's parts, one job a module; bench/run.py is the entry point.

- ``scenarios``: the scenarios, the full and quick profiles, each caller's request;
- ``clients``: the client processes and one scenario run across them;
- ``measure``: percentiles and CPU time (processes, PostgreSQL, the machine);
- ``database``: the fresh database, seed data, vacuum, bulk load, plain-SQL reads;
- ``pgbench``: the database ceiling (one adjustment per statement);
- ``server``: the real server under test;
- ``report``: ratios, targets, the printed table, Markdown and the chart.
"""

"""The five stages, in the order data flows: ingest -> extract -> tables -> validate -> publish.

Each is a module with one `run()` that loads, processes and saves, handing the next stage a file, and
runs alone as `python -m pipeline.stages.<stage>`. `batch` runs the stages Make found stale in one
process.
"""

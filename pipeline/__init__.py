"""Baoshan resettlement-sites open dataset: raw text -> figures with provenance -> tables."""

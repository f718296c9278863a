"""Making and checking releases: `build` (the release directory, zip and assets), `verify`,
`download`, `archive` (reproducible zips), `datapackage`, `croissant`, `card` (dataset card,
CITATION.cff, LICENSE) and `project` (version, author, release date)."""

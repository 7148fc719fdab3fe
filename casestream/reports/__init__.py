"""Reports built from the read models and rendered as documents: the yearly 法治政府建设
report's figures (annual.py, its sections, and one renderer per format), shared by the
`casestream report` command, the ledger endpoint and the console page."""

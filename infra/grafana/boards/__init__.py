"""casestream's Grafana dashboards, one module each, on the panels of `panels`."""

"""Figures of the site, drawn from cnnref at build time."""

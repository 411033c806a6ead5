"""Logs, metrics and traces: how xsell makes itself visible without leaking secrets."""

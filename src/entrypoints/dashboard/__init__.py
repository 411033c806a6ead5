"""The sales dashboard: a Panel server that reads and writes through the xsell REST API only."""

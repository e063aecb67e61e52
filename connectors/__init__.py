"""Log sources. One package per source; see connectors/registry.py for how to add one."""

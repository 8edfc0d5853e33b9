"""The novel factory: plans, drafts and scores web-novel episodes."""

__version__ = "10.4.0"

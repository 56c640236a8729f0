"""dstui: a terminal explorer for Azure Container Apps dynamic sessions."""

__version__ = "0.1.0"

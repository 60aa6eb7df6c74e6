"""reconcile: catalog-as-code for the Pitney Bowes Fulfillment APIs."""

__version__ = "0.1.0"

"""netverify: a formal verifier for Kubernetes network policies."""

__version__ = "0.1.0"

"""Theft-risk scoring: SQL features per customer, LightGBM on inspection outcomes (or an unsupervised
fallback), calibrated scores, explanations and evaluation metrics (DESIGN §3, DOMAIN §6)."""

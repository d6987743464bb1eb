"""The import contract (DESIGN §2): one declarative spec of the 17 tables a utility exports."""

from gridaudit.contract.spec import Column, Contract, Domain, Table, load_contract, normalize_header

__all__ = ["Column", "Contract", "Domain", "Table", "load_contract", "normalize_header"]

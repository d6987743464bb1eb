"""Reports: one data model per report, computed once, rendered to HTML (self-contained), PDF and XLSX."""

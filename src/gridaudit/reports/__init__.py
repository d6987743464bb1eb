"""Reports people read: the monthly audit report (HTML, PDF, XLSX) and the PDF/font machinery they share.

:mod:`gridaudit.reports.fonts` finds a CJK font on the system; :mod:`gridaudit.reports.pdf` turns an HTML
string into an A4 PDF with that font embedded; :mod:`gridaudit.reports.xlsx` holds the workbook helpers.
"""

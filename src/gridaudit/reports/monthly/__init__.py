"""The monthly audit report (月度稽查报告): one model computed once (:func:`build.build_report`), rendered to
HTML (:mod:`.html`), PDF (:mod:`.pdf_render`) and XLSX (:mod:`.xlsx`). Renderers compute no figure."""

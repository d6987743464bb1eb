"""The indicator system (指标体系) and its assessment (考核): indicators as data (``catalog/<id>.yaml``), the
utility's assessment method (考核办法, ``methods/*.yaml``) as data, and one function the CLI, the web app and
the monthly report call: :func:`gridaudit.indicators.assess.assess_month`."""

"""Read models of the web pages (below the web layer): functions (dataset engine, store session, acting
user, parameters) → dataclasses, with unit scope applied (:mod:`gridaudit.audit.access`).

``dashboard`` (month and unit), ``customer`` (客户全景), ``area`` / ``feeder`` (line loss of one entity),
``staff``; :mod:`.loss` keeps the line-loss runs they read, :mod:`.findings_read` the findings with units,
:mod:`.common` the checks, scope and links they share.
"""

"""IHE MHD for professionals: ITI-65 Provide Document Bundle, ITI-67 Find Document References,
ITI-68 Retrieve Document, and the author's document operations (spec/mhd.md, mes-spec §4).

`views.py` holds the HTTP views; the other modules are pure translation between FHIR resources
and the records domain: the rules (who may deposit, read, mask, archive, delete) stay in
mes.records and mes.access; they parse, check the MHD shapes and render.
"""

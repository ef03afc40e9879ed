"""The professionals' FHIR resources besides the documents (mes.fhir.mhd), one module per
family, and the discovery documents (`metadata`)."""

"""The PMM methodology: framework files, formulas, validation and scoring."""

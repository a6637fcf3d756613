"""One module per upstream dialect: wire decode -> neutral request -> shared model -> wire encode."""

"""Reports for officials: one engine computing a typed document, rendered as json, csv, xlsx and pdf."""

PINNED_VERSIONS = {
  "iree": "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b",
}

PINNED_VERSIONS["xla"] = "5cdd98a68988e411a3e784c84cdae7f24b35fdf4"

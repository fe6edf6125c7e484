PINNED_VERSIONS = {
  "iree": "a75b47c06cee4ad20a2f73ddd3af80d4a7e3b73b",
}

ORIGINS = {
  "iree": 12345,
}

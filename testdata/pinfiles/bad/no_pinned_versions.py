# Only origins; the pins were deleted.
ORIGINS = {
  "iree": "https://github.com/iree-org/iree.git",
}

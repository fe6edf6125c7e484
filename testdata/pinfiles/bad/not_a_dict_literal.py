import json

PINNED_VERSIONS = json.load(open("pins.json"))

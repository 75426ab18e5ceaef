#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""validate.py SCHEMA FILE...: validate JSON files against a JSON Schema (exit 1 on failure)."""
import json
import sys

import jsonschema


def main():
    schema = json.load(open(sys.argv[1]))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    v = cls(schema)
    bad = 0
    for path in sys.argv[2:]:
        errors = sorted(v.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
        for e in errors[:5]:
            print("%s: %s at %s" % (path, e.message, "/".join(map(str, e.path))))
        bad += bool(errors)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

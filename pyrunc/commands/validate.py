"""`pyrunc validate`: check a bundle's config.json without touching anything.

Two passes, the same two a config goes through elsewhere:
1. the JSON Schemas in schemas/ (pyrunc's own, which accept and refuse the
   same documents as the runtime-spec's): every shape problem is reported;
2. if the shape is right, the checks `create` makes (pyrunc.spec.model):
   supported ociVersion, duplicate namespaces or rlimits, unknown rlimits,
   absolute paths, ... (the first such problem is reported).

Output: nothing on success (exit 0), like runc's other quiet commands;
things that would be ignored with a warning at create (unknown
capabilities, ...) are reported as warnings. On failure every problem is
printed to stdout, one `field: reason` line each, and the command fails
(exit 1) with `config.json is not valid: <first problem>`.

jsonschema is imported here only: it costs ~150 ms, which the hot path
(`create`, `run`) never pays.
"""

import os
import sys

from pyrunc.errors import ConfigError, RuntimeFailure, os_failure
from pyrunc.spec import model

CONFIG_SCHEMA = "config.schema.json"
STATE_SCHEMA = "state.schema.json"
FEATURES_SCHEMA = "features.schema.json"


def schema_dir():
    """Where pyrunc's schema files are.

    An installed package carries them as package data in `<pkg>/schemas`;
    a source checkout has them in `schemas/` at the repository root, next to
    the package directory.
    """
    pkg = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = (os.path.join(pkg, "schemas"), os.path.join(os.path.dirname(pkg), "schemas"))
    for directory in candidates:
        if os.path.isfile(os.path.join(directory, CONFIG_SCHEMA)):
            return directory
    raise RuntimeFailure(f"cannot find pyrunc's JSON schemas (looked in {' and '.join(candidates)})")


def load_schemas(directory=None):
    """{file name: schema document} for every *.json in the schema directory."""
    from pyrunc import jsonio

    directory = directory or schema_dir()
    out = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".json"):
            out[name] = jsonio.load_file(os.path.join(directory, name))
    return out


def make_validator(name=CONFIG_SCHEMA, directory=None):
    """A jsonschema validator for one of pyrunc's schemas (config, state or features).

    The schemas refer to each other by relative file name; they are put in a
    registry under those names so no file or network lookup happens.
    "integer" means a JSON number written without a fraction: 1.0 is refused,
    as Go (runc) and pyrunc.spec.model refuse it.
    """
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    schemas = load_schemas(directory)
    if name not in schemas:
        raise RuntimeFailure(f"no schema named {name}")
    registry = Registry().with_resources(
        (fname, Resource.from_contents(doc, default_specification=DRAFT202012)) for fname, doc in schemas.items()
    )
    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine("integer", _is_integer)
    cls = jsonschema.validators.extend(base, type_checker=checker)
    return cls(schemas[name], registry=registry)


def _is_integer(checker, instance):
    return type(instance) is int


_TYPE_REASONS = {
    "string": "must be a string",
    "integer": "must be an integer",
    "boolean": "must be a boolean",
    "object": "must be an object",
    "array": "must be an array",
    "number": "must be a number",
}


def format_path(instance_path, schema_path=()):
    """`linux.sysctl["net.ipv4.ip_forward"]`-style path of a jsonschema error.

    Map entries (sysctl, annotations, rdma, netDevices) are written
    `["key"]` and struct fields `.name`, as pyrunc.spec.model writes them; the
    schema path tells which is which.
    """
    elems = list(instance_path)
    map_positions = set()
    tokens = list(schema_path)
    pos = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "properties":
            pos += 1
            i += 2
        elif tok == "patternProperties":
            map_positions.add(pos)
            pos += 1
            i += 2
        elif tok == "additionalProperties":
            map_positions.add(pos)
            pos += 1
            i += 1
        elif tok == "items":
            pos += 1
            i += 1
        elif tok == "prefixItems":
            pos += 1
            i += 2
        elif tok in ("allOf", "anyOf", "oneOf", "dependentSchemas"):
            i += 2
        else:
            i += 1
    out = ""
    for n, elem in enumerate(elems):
        if type(elem) is int:
            out += f"[{elem}]"
        elif n in map_positions:
            out += f'["{elem}"]'
        else:
            out += f".{elem}" if out else str(elem)
    return out


def schema_problems(document, validator=None):
    """[(field path, reason)] for every schema violation, in document order."""
    if validator is None:
        validator = make_validator()
    problems = []
    for err in validator.iter_errors(document):
        path = format_path(err.absolute_path, err.absolute_schema_path)
        if err.validator == "required":
            missing = [
                name
                for name in err.validator_value
                if isinstance(err.instance, dict) and name not in err.instance and err.message.startswith(repr(name))
            ]
            field = missing[0] if missing else None
            if field is not None:
                problems.append((f"{path}.{field}" if path else field, "is required"))
                continue
        if err.validator == "type" and isinstance(err.validator_value, str):
            reason = _TYPE_REASONS.get(err.validator_value, err.message)
        else:
            reason = err.message
        problems.append((path, reason))
    problems.sort(key=lambda p: _sort_key(p[0]))
    return problems


def _sort_key(path):
    # Stable, readable order: by field path, with list indexes numerically.
    key = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("[") and part[1:-1].isdigit():
            key.append((1, int(part[1:-1]), ""))
        else:
            key.append((0, 0, part))
    return key


def check_config(document, validator=None):
    """(problems, warnings) for a decoded config.json: schema first, then pyrunc's own rules."""
    if document is None:
        return [("", "config cannot be null")], []
    problems = schema_problems(document, validator)
    if problems:
        return problems, []
    try:
        config = model.parse_config(document)
    except ConfigError as e:
        return [(e.field, e.reason)], []
    return [], list(config.warnings)


def _read_config(bundle):
    path = os.path.join(bundle or ".", "config.json")
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except FileNotFoundError:
        raise RuntimeFailure("JSON specification file config.json not found") from None
    except OSError as e:
        raise os_failure(e, "open config.json") from None
    return model.decode_config_json(blob)


def _line(field, reason):
    return f"{field}: {reason}" if field else reason


def run(inv):
    """Validate `<--bundle>/config.json` (default: the current directory)."""
    bundle = (inv.flags or {}).get("bundle") or ""
    document = _read_config(bundle)
    problems, warnings = check_config(document)

    warn = getattr(inv, "warn", None)
    for text in warnings:
        if callable(warn):
            warn(text)
        else:
            sys.stderr.write(f"warning: {text}\n")

    if not problems:
        return 0
    out = sys.stdout
    for field, reason in problems:
        out.write(_line(field, reason) + "\n")
    out.flush()
    first = _line(*problems[0])
    more = f" ({len(problems)} problems in total)" if len(problems) > 1 else ""
    raise RuntimeFailure(f"config.json is not valid: {first}{more}")

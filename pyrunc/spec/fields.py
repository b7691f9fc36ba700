"""Typed reads of config.json fields, each refusal naming the field.

The spec model (model.py, process.py) reads every field through these: a wrong
type or an out-of-range number is a ConfigError whose field is a JSON-ish path
to the value (`process.user.uid: must be an integer`). The sections kept as
plain dicts (resources, seccomp, ...) are checked against a shape instead
(Obj, ListOf, MapOf, Enum, Test, STR, BOOL, or an integer kind "i32" ...).
"""

from pyrunc.errors import ConfigError

I32 = (-(1 << 31), (1 << 31) - 1)
I64 = (-(1 << 63), (1 << 63) - 1)
U16 = (0, (1 << 16) - 1)
U32 = (0, (1 << 32) - 1)
U64 = (0, (1 << 64) - 1)


class Model:
    """Base: a repr listing the fields, and field-wise equality (for tests)."""

    __slots__ = ()
    _repr_skip = ()

    def __repr__(self):
        parts = []
        for name in self.__slots__:
            if name not in self._repr_skip:
                parts.append(f"{name}={getattr(self, name)!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        for name in self.__slots__:
            if getattr(self, name) != getattr(other, name):
                return False
        return True

    __hash__ = None


def at(base, key):
    return f"{base}.{key}" if base else key


def keyed(base, key):
    """Path of a map entry: linux.sysctl["net.ipv4.ip_forward"]."""
    return f'{base}["{key}"]'


def _typed(d, key, base, kind, noun, default):
    """d[key] when it is of type `kind`; `default` when absent or null."""
    v = d.get(key)
    if v is None:
        return default
    if type(v) is not kind:
        raise ConfigError(at(base, key), "must be " + noun)
    return v


def str_field(d, key, base, default=None):
    return _typed(d, key, base, str, "a string", default)


def bool_field(d, key, base, default=False):
    return _typed(d, key, base, bool, "a boolean", default)


def check_int(v, path, bounds):
    if type(v) is not int:
        raise ConfigError(path, "must be an integer")
    if v < bounds[0] or v > bounds[1]:
        raise ConfigError(path, f"must be between {bounds[0]} and {bounds[1]}")
    return v


def int_field(d, key, base, bounds, default=None):
    v = d.get(key)
    if v is None:
        return default
    return check_int(v, at(base, key), bounds)


def required(d, key, base):
    v = d.get(key)
    if v is None:
        raise ConfigError(at(base, key), "is required")
    return v


def obj_field(d, key, base):
    return _typed(d, key, base, dict, "an object", None)


def list_field(d, key, base):
    return _typed(d, key, base, list, "an array", None)


def str_list(d, key, base, default=None):
    """An array of strings; `default` when absent."""
    v = list_field(d, key, base)
    if v is None:
        return default
    for i, s in enumerate(v):
        if type(s) is not str:
            raise ConfigError(f"{at(base, key)}[{i}]", "must be a string")
    return v


def str_map(d, key, base):
    """An object whose values are all strings (annotations, sysctl)."""
    v = obj_field(d, key, base)
    if v is None:
        return {}
    for k, s in v.items():
        if type(s) is not str:
            raise ConfigError(keyed(at(base, key), k), "must be a string")
    return v


def uint_list(d, key, base, bounds):
    v = list_field(d, key, base)
    if v is None:
        return []
    for i, n in enumerate(v):
        check_int(n, f"{at(base, key)}[{i}]", bounds)
    return v


def entries(d, key, base):
    """An array of objects: yields (index, entry dict, entry path)."""
    items = list_field(d, key, base)
    if not items:
        return ()
    path = at(base, key)
    out = []
    for i, item in enumerate(items):
        if type(item) is not dict:
            raise ConfigError(f"{path}[{i}]", "must be an object")
        out.append((i, item, f"{path}[{i}]"))
    return out


def check_absolute(path_value, field, what="must be an absolute path"):
    if not path_value.startswith("/"):
        raise ConfigError(field, f'{what}, not "{path_value}"')


# --------------------------------------------------------------------------
# Generic shape checks for the sections kept as raw dicts (resources,
# seccomp, ...): their consumers read them directly, but a wrong type must
# still be refused here, before anything is set up, naming the field.
# --------------------------------------------------------------------------


class Obj:
    """An object with known fields: {name: shape}; `required` names must be present."""

    __slots__ = ("fields", "required")

    def __init__(self, fields, required=()):
        self.fields = fields
        self.required = required


class ListOf:
    __slots__ = ("item", "min_items")

    def __init__(self, item, min_items=0):
        self.item = item
        self.min_items = min_items


class MapOf:
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class Enum:
    __slots__ = ("values",)

    def __init__(self, values):
        self.values = values


class Test:
    """A string that must pass `test`; `reason` is the error text."""

    __slots__ = ("test", "reason")

    def __init__(self, test, reason):
        self.test = test
        self.reason = reason


STR = "str"
BOOL = "bool"
INT_BOUNDS = {"i32": I32, "i64": I64, "u16": U16, "u32": U32, "u64": U64}


def shape_path(path):
    """Format a lazily built shape path: a str, or (parent, field | index | [key])."""
    if type(path) is str:
        return path
    parent, token = path
    base = shape_path(parent)
    if type(token) is int:
        return f"{base}[{token}]"
    if type(token) is list:
        return keyed(base, token[0])
    return at(base, token)


def check_shape(value, shape, path):
    # `path` is only formatted (by shape_path) when a problem is found: a
    # seccomp profile has hundreds of entries and this runs on every create.
    if value is None:
        return
    if shape is STR:
        if type(value) is not str:
            raise ConfigError(shape_path(path), "must be a string")
    elif shape is BOOL:
        if type(value) is not bool:
            raise ConfigError(shape_path(path), "must be a boolean")
    elif type(shape) is str:
        bounds = INT_BOUNDS[shape]
        if type(value) is not int or value < bounds[0] or value > bounds[1]:
            check_int(value, shape_path(path), bounds)
    elif type(shape) is Obj:
        if type(value) is not dict:
            raise ConfigError(shape_path(path), "must be an object")
        for name in shape.required:
            if value.get(name) is None:
                raise ConfigError(at(shape_path(path), name), "is required")
        fields = shape.fields
        for name, sub in value.items():
            sub_shape = fields.get(name)
            if sub_shape is not None:
                if sub_shape is STR and type(sub) is str:
                    continue
                check_shape(sub, sub_shape, (path, name))
    elif type(shape) is ListOf:
        if type(value) is not list:
            raise ConfigError(shape_path(path), "must be an array")
        if len(value) < shape.min_items:
            raise ConfigError(shape_path(path), f"must have at least {shape.min_items} entry")
        item = shape.item
        if item is STR:
            for sub in value:
                if type(sub) is not str:
                    raise ConfigError(shape_path((path, value.index(sub))), "must be a string")
        else:
            for i, sub in enumerate(value):
                check_shape(sub, item, (path, i))
    elif type(shape) is MapOf:
        if type(value) is not dict:
            raise ConfigError(shape_path(path), "must be an object")
        for k, sub in value.items():
            check_shape(sub, shape.value, (path, [k]))
    elif type(shape) is Enum:
        if type(value) is not str:
            raise ConfigError(shape_path(path), "must be a string")
        if value not in shape.values:
            raise ConfigError(shape_path(path), f'unknown value "{value}" (expected one of {", ".join(shape.values)})')
    elif type(shape) is Test:
        if type(value) is not str:
            raise ConfigError(shape_path(path), "must be a string")
        if not shape.test(value):
            raise ConfigError(shape_path(path), shape.reason.format(value))
    else:  # pragma: no cover - a bug in the tables below
        raise TypeError(f"bad shape {shape!r}")


def raw_field(d, key, base, shape):
    """A section kept as its dict, after checking its shape."""
    v = d.get(key)
    if v is None:
        return None
    check_shape(v, shape, at(base, key))
    return v

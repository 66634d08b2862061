"""Records made cheaply: ``NamedTuple`` without importing ``typing`` at run time, and
``record``, a dataclass defined without compiling code (below).

A one-shot command (``tcp-observatory netstat``) must start in little more than the bare
interpreter's time, and importing ``typing`` alone costs it ~1.5 ms. The type checker sees
``typing.NamedTuple`` itself; at run time, a class written as ``class X(NamedTuple)`` with
annotated fields (and trailing defaults) becomes a subclass of ``collections.namedtuple``
holding the class's own methods, with ``__slots__ = ()`` as ``typing`` makes it.

Every module using it has ``from __future__ import annotations``, so the annotations are
plain strings kept in ``__annotations__``: only their names are read here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as NamedTuple
else:
    import collections

    class _Maker(type):
        def __new__(mcls, name, bases, ns):
            if not bases:  # NamedTuple itself
                return super().__new__(mcls, name, bases, ns)
            if "__annotations__" not in ns:  # Python 3.14 keeps them there only with:
                raise TypeError(f"{name}: a record's module needs "
                                "'from __future__ import annotations'")
            fields = list(ns["__annotations__"])
            defaults = [ns[f] for f in fields if f in ns]
            if any(f not in ns for f in fields[len(fields) - len(defaults):]):
                raise TypeError(f"{name}: a field without a default follows one with a default")
            base = collections.namedtuple(name, fields, defaults=defaults,
                                          module=ns.get("__module__"))
            body = {k: v for k, v in ns.items() if k not in fields}
            body["__slots__"] = ()
            return type(name, (base,), body)

    class NamedTuple(metaclass=_Maker):
        """Base of a record: ``class Endpoint(NamedTuple): host: str; port: int``."""


# ``record``: ``dataclasses.dataclass`` for the events and small values the app's first screen
# imports, made without ``exec``. A frozen dataclass costs ~0.7 ms to define (its methods
# are compiled from source), and the start defined 17 of them: 11 ms of every start, a
# tenth of what it adds to a bare Textual app (bench/bench_startup.py). A record's methods
# are shared functions reading its field names; they do what the dataclass's did: the
# same constructor (positional or keyword, defaults, fields inherited from a record base),
# equality between instances of one class, a hash where frozen (none where mutable, as a
# dataclass with eq), the same repr and ``__match_args__``, and assignment refused where
# frozen. No ``field()``, ``__post_init__``, ordering or ``dataclasses.replace``: a class
# needing those stays a dataclass. The type checker sees the dataclass itself.
if TYPE_CHECKING:
    from dataclasses import dataclass as record
else:
    _CLASSVAR = ("ClassVar", "typing.ClassVar")

    def record(cls=None, /, *, frozen=False):
        """``@record`` or ``@record(frozen=True)``, above a class with annotated fields."""

        def wrap(cls):
            return _make_record(cls, frozen)

        return wrap if cls is None else wrap(cls)

    def _make_record(cls, frozen):
        names = []
        defaults = {}
        for base in reversed(cls.__mro__[1:]):
            for name in base.__dict__.get("__record_fields__", ()):
                if name not in names:
                    names.append(name)
            defaults.update(base.__dict__.get("__record_defaults__", {}))
        # As strings, with the module's "from __future__ import annotations" (as NamedTuple
        # above); inspect.get_annotations would import inspect for a one-shot command.
        own = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        for name, annotation in own.items():
            if isinstance(annotation, str) and annotation.startswith(_CLASSVAR):
                continue
            if name not in names:
                names.append(name)
            if name in cls.__dict__:
                defaults[name] = cls.__dict__[name]
            else:
                defaults.pop(name, None)
        fields = tuple(names)
        seen_default = False
        for name in fields:
            if name in defaults:
                seen_default = True
            elif seen_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
        qualname = cls.__qualname__
        setter = object.__setattr__

        def __init__(self, *args, **kwargs):
            if len(args) > len(fields):
                raise TypeError(f"{qualname}.__init__() takes {len(fields) + 1} positional "
                                f"arguments but {len(args) + 1} were given")
            values = dict(zip(fields, args, strict=False))  # (fewer args than fields)
            for name, value in kwargs.items():
                if name not in fields:
                    raise TypeError(f"{qualname}.__init__() got an unexpected keyword "
                                    f"argument {name!r}")
                if name in values:
                    raise TypeError(f"{qualname}.__init__() got multiple values for "
                                    f"argument {name!r}")
                values[name] = value
            for name in fields:
                if name in values:
                    setter(self, name, values[name])
                elif name in defaults:
                    setter(self, name, defaults[name])
                else:
                    raise TypeError(f"{qualname}.__init__() missing required argument: "
                                    f"{name!r}")

        def _values(self):
            return tuple([getattr(self, name) for name in fields])

        def __eq__(self, other):
            if other.__class__ is self.__class__:
                return _values(self) == _values(other)
            return NotImplemented

        def __repr__(self):
            inside = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
            return f"{self.__class__.__qualname__}({inside})"

        methods = {"__init__": __init__, "__eq__": __eq__, "__repr__": __repr__}
        if frozen:
            def __hash__(self):
                return hash(_values(self))

            # (dataclasses is imported only then: a one-shot netstat does without it)
            def __setattr__(self, name, value):
                from dataclasses import FrozenInstanceError
                raise FrozenInstanceError(f"cannot assign to field {name!r}")

            def __delattr__(self, name):
                from dataclasses import FrozenInstanceError
                raise FrozenInstanceError(f"cannot delete field {name!r}")

            methods.update(__hash__=__hash__, __setattr__=__setattr__, __delattr__=__delattr__)
        else:
            methods["__hash__"] = None
        for name, method in methods.items():
            if method is not None:
                method.__qualname__ = f"{qualname}.{name}"
            setattr(cls, name, method)
        cls.__record_fields__ = fields
        cls.__record_defaults__ = defaults
        cls.__match_args__ = fields
        return cls

"""``NamedTuple`` for the records, without importing ``typing`` at run time.

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

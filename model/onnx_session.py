"""The one way model/ opens an ONNX model: CPU, sequential, fixed thread count."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort


def make_session(path: Path | str, threads: int = 1) -> ort.InferenceSession:
    """Open `path` on the CPU provider with `threads` intra-op threads and full graph optimisation.

    One session may be shared by several threads: ONNX Runtime's `run` is thread-safe.
    """
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Don't spin idle worker threads: the bot shares two cores with the event loop.
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # No arena: it keeps peak buffers for the life of the process (~15 MB here) at equal speed.
    opts.enable_cpu_mem_arena = False
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
